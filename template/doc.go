// Package template models a WeChat template message: a key, a title, and
// the request body of /cgi-bin/message/template/send as JSON with ${var}
// placeholders in its string values. A template has a Kind: the default,
// KindTemplate, is that; KindCustom is a customer-service message's body
// (custom/send) and KindSubscribe a subscribe notification's
// (subscribe/bizsend), each linted as its own. It parses a template once, renders it
// once per recipient, and lints it against WeChat's 2023 content rules.
//
// # Placeholders
//
// Any JSON string value may hold placeholders; object keys never do.
//
//	${name}           the variable name; a recipient without it is an error
//	${name:-friend}   "friend" when name is missing or empty
//	$${               a literal "${"
//
// A name is ASCII letters, digits and '_', not starting with a digit (the
// rule for recipient file columns); a default is any text up to the first
// '}'. Any other "${" is a syntax error naming the JSON path.
// Rendering places values into the parsed structure and encodes them once,
// so quotes, backslashes, '$', '&', '<' and newlines in a value are data,
// never syntax. Nothing is HTML-escaped: WeChat has refused \uXXXX escapes.
//
// # Keys and paths
//
// A template is named either by a key in the database or by a file path.
// The rule (IsPath) is: an argument that contains a path separator ('/' or
// '\') or ends in ".json" or ".toml" is a file path; anything else is a key.
// CheckKey refuses keys that would read as paths, so the two never overlap:
// "order_paid" is a stored template, "./order_paid" and "order_paid.json"
// are files.
//
// # Files
//
// ParseFile reads one template per file:
//
//   - a .toml file has the string fields key, title, kind and body, body
//     holding the JSON request body;
//   - any other file is JSON: either the bare request body (key = the file
//     name without its extension, title empty), or a wrapper object
//     {"key": …, "title": …, "kind": …, "body": {…}}. Without a kind, as
//     always for a bare body, the template is KindTemplate. A top-level object is a wrapper
//     when it has an object-valued "body" and neither "touser" nor
//     "template_id".
//
// The body is kept byte for byte as written, minus surrounding white space
// (and a byte order mark), so show, export and import round-trip exactly.
//
// # Lint
//
// Since 2023-05-04 WeChat drops first and remark, ignores color, cuts legacy
// values after 20 characters or a line break, and refuses category values
// (thing1, phrase3 …) that break their type's rule with errcode 47003.
// Lint reports what a template states literally; LintRendered reports what
// one recipient's values would do.
package template
