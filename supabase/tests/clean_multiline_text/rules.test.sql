begin;
select plan(7);

select is(
    private.clean_multiline_text(E'  Hello,\r\n\r\n\tsee you.\n ', 100, 'invalid_template_body'),
    E'Hello,\n\n\tsee you.',
    'CRLF becomes LF, the ends are trimmed, inner line breaks and tabs stay'
);
select ok(private.is_clean_multiline_text(E'a\nb', 3), 'a line break inside is clean');
select ok(not private.is_clean_multiline_text(E'a\rb', 3), 'a lone carriage return is not');
select ok(not private.is_clean_multiline_text(U&'a\202Eb', 3), 'a bidi override is not');
select ok(not private.is_clean_multiline_text('abcd', 3), 'longer than the limit is not');

select throws_ok(
    $$select private.clean_multiline_text(E' \n\t ', 100, 'invalid_template_body')$$,
    'PT400',
    'invalid_template_body',
    'nothing visible raises the given code'
);
select throws_ok(
    $$select private.clean_multiline_text(E'bell\u0007', 100, 'invalid_description')$$,
    'PT400',
    'invalid_description',
    'a control character raises the given code'
);

select * from finish();
rollback;
