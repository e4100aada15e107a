-- Single messages of every kind (issue 18): the kind of the template body a
-- message was accepted with, kept beside that body. A hash names one kind:
-- campaign hashes a customer-service or subscribe body with its kind, so the
-- same bytes as two kinds are two rows.
ALTER TABLE message_templates ADD COLUMN kind TEXT NOT NULL DEFAULT 'template';
