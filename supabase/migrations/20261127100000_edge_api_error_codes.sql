-- Error codes that edge_api answers with itself, before any SQL runs: a bad
-- access token and a malformed request parameter. They live in the one
-- registry so docs/errors.md and every client see a single list of codes.

insert into private.error_codes (code, http_status, description) values
(
    'invalid_token',
    401,
    'The access token is malformed, expired, not signed by this project or not meant for this API.'
),
('invalid_parameter', 400, 'A request parameter is missing or malformed.');

insert into private.error_codes (code, http_status, description) values
('method_not_allowed', 405, 'This endpoint does not answer that HTTP method.');
