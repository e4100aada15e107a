-- Message kinds (issue 18): a template is the body of one of WeChat's send
-- endpoints, template/send (the default), custom/send or subscribe/bizsend.
-- A batch keeps the kind with its template snapshot, so that a resume sends
-- the same kind to the same endpoint whatever became of the stored template.
ALTER TABLE templates ADD COLUMN kind TEXT NOT NULL DEFAULT 'template';
ALTER TABLE batches ADD COLUMN template_kind TEXT NOT NULL DEFAULT 'template';

-- campaign --fallback: the template-kind message sent to a recipient a
-- customer-service message could not reach (45015, 45047), kept as the
-- batch's template is; '' when the batch has none.
ALTER TABLE batches ADD COLUMN fallback_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE batches ADD COLUMN fallback_body TEXT NOT NULL DEFAULT '';

-- Which kind a recipient is sent with: NULL for the batch's own, the
-- fallback's kind once the recipient has moved to the fallback. The move is
-- written before the fallback leaves, so a resume never sends the first
-- kind again. It lives on the narrow sends row (0003: a recipients row
-- never changes after its import); recipients_now shows it as kind.
ALTER TABLE sends ADD COLUMN kind TEXT;

DROP VIEW recipients_now;
CREATE VIEW recipients_now AS
SELECT r.batch_id, r.line, r.openid, r.vars,
	COALESCE(s.state, 'pending') AS state, COALESCE(s.attempts, 0) AS attempts,
	s.errcode, s.errmsg, s.msgid, r.client_msg_id,
	s.first_attempt_at, s.last_attempt_at, s.done_at,
	COALESCE(s.kind, (SELECT b.template_kind FROM batches b WHERE b.id = r.batch_id)) AS kind
FROM recipients r LEFT JOIN sends s ON s.batch_id = r.batch_id AND s.line = r.line;
