begin;
select plan(8);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select
    tests.create_workspace(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
    );

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    public.activate_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') - 'checklist',
    jsonb_build_object(
        'workspace_id', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
        'status', 'draft',
        'ready', false,
        'missing', jsonb_build_array('email_sender', 'bookable_type'),
        'activated', false
    ),
    'a new workspace: email sender and a bookable type are missing'
);

update public.communication_settings set sender_email = 'desk@north.test'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
insert into public.booking_types (workspace_id, name, duration_minutes)
values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Check-up', 30);
insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)
select
    bt.workspace_id,
    bt.id as booking_type_id,
    p.id as practitioner_id
from public.booking_types as bt
inner join public.practitioners as p on bt.workspace_id = p.workspace_id;

select is(
    public.workspace_activation_status('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') -> 'missing',
    '["bookable_type"]'::jsonb,
    'a type performed by a practitioner without hours is not bookable'
);

insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)
select
    workspace_id,
    id as practitioner_id,
    2 as weekday,  -- noqa: RF04
    '09:00' as start_time,
    '17:00' as end_time
from public.practitioners;

select is(
    public.workspace_activation_status('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') -> 'checklist',
    '[
        {"code": "email_sender", "done": true, "description": "Turn the email channel on and set a sender email address."},
        {"code": "sms_sender", "done": true, "description": "The SMS channel is on: set its sender number, or turn SMS off."},
        {"code": "bookable_type", "done": true, "description": "Create an active booking type performed by a practitioner who has weekly hours."},
        {"code": "practitioner_names", "done": true, "description": "Every practitioner who performs an active booking type needs a full name (the public page shows it)."}
    ]'::jsonb,
    'every item done, in a stable order'
);

select is(
    public.activate_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') - 'checklist',
    jsonb_build_object(
        'workspace_id', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
        'status', 'active',
        'ready', true,
        'missing', '[]'::jsonb,
        'activated', true
    ),
    'activation succeeds'
);
select is((
    select status from public.workspaces
    where slug = 'north-clinic'
), 'active', 'the workspace is active');

select is(
    public.suspend_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') ->> 'status', 'suspended', 'owners suspend'
);
select is(
    (public.activate_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') ->> 'activated')::boolean, true, 'and reactivate'
);
select is((
    select status from public.workspaces
    where slug = 'north-clinic'
), 'active', 'active again');

select tests.clear_authentication();
select * from finish();
rollback;
