/**
 * The request as the gateway forwarded it (redactions applied): chat messages shown as a
 * conversation when the body has them, and the full JSON behind a disclosure.
 */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((part) => {
        const p = part as { type?: string; text?: string };
        return typeof p?.text === 'string' ? p.text : `[${p?.type ?? 'part'}]`;
      })
      .join('\n');
  if (content === null || content === undefined) return '';
  return JSON.stringify(content, null, 2);
}

export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function RequestView({ request }: { request: unknown }) {
  if (request === null || request === undefined) return <p className="muted">The request body was not kept (see the policy's review settings).</p>;
  const body = request as { messages?: unknown[]; input?: unknown; system?: unknown; tools?: unknown[] };
  const messages = Array.isArray(body.messages) ? body.messages : null;
  return (
    <>
      {messages ? (
        <ol className="messages" aria-label="Messages">
          {typeof body.system === 'string' && (
            <li className="message">
              <span className="message-role">system</span>
              <div className="message-text">{body.system}</div>
            </li>
          )}
          {messages.map((m, i) => {
            const msg = m as { role?: string; content?: unknown; tool_calls?: unknown };
            return (
              <li key={i} className="message">
                <span className="message-role">{msg.role ?? 'message'}</span>
                <div className="message-text">{textOf(msg.content)}</div>
                {msg.tool_calls ? <JsonBlock value={msg.tool_calls} label={`Tool calls of message ${i + 1}`} /> : null}
              </li>
            );
          })}
        </ol>
      ) : typeof body.input === 'string' ? (
        <div className="message-text">{body.input}</div>
      ) : null}
      <details>
        <summary>Full request body (JSON)</summary>
        <JsonBlock value={request} label="Request body" />
      </details>
    </>
  );
}
