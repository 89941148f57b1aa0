/**
 * The admission log of one quota: (time, amount) entries in non-decreasing time order, with
 * their running sum. Entries at or before `now - window` no longer count and are pruned.
 */
export class SlidingLog {
  private times: number[] = [];
  private amounts: number[] = [];
  private head = 0;
  /** Sum of the amounts of the live entries. */
  sum = 0;

  get length(): number {
    return this.times.length - this.head;
  }

  /** Time of the i-th live entry, oldest first. */
  time(i: number): number {
    return this.times[this.head + i];
  }

  amount(i: number): number {
    return this.amounts[this.head + i];
  }

  /** Time of the newest entry (-Infinity when empty). */
  get last(): number {
    return this.times.length > this.head ? this.times[this.times.length - 1] : Number.NEGATIVE_INFINITY;
  }

  /** Drops entries at or before `cutoff`. */
  prune(cutoff: number): void {
    const times = this.times;
    let h = this.head;
    while (h < times.length && times[h] <= cutoff) this.sum -= this.amounts[h++];
    this.head = h;
    if (h === times.length) {
      this.times = [];
      this.amounts = [];
      this.head = 0;
      this.sum = 0; // float drift of the running sum never outlives an empty log
    } else if (h > 1024 && h * 2 > times.length) {
      this.times = times.slice(h);
      this.amounts = this.amounts.slice(h);
      this.head = 0;
    }
  }

  /** Appends at `time`, which must be >= `last` (callers book at or after the newest entry). */
  push(time: number, amount: number): void {
    this.times.push(time);
    this.amounts.push(amount);
    this.sum += amount;
  }

  /** Removes the newest entry equal to (time, amount): an abandoned booking. */
  remove(time: number, amount: number): void {
    for (let i = this.times.length - 1; i >= this.head; i--) {
      if (this.times[i] === time && this.amounts[i] === amount) {
        this.times.splice(i, 1);
        this.amounts.splice(i, 1);
        this.sum -= amount;
        return;
      }
    }
  }

  /** Takes up to `credit` back from the newest entries (a request used fewer tokens than it took). */
  refund(credit: number): void {
    for (let i = this.times.length - 1; i >= this.head && credit > 0; i--) {
      const take = this.amounts[i] < credit ? this.amounts[i] : credit;
      this.amounts[i] -= take;
      this.sum -= take;
      credit -= take;
      if (this.amounts[i] === 0 && i === this.times.length - 1) {
        this.times.pop(); // an emptied newest entry: dropping it keeps refunds O(1)
        this.amounts.pop();
      }
    }
  }
}
