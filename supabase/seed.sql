-- Demo data for make dev (and `supabase db reset`). Idempotent: safe to load again.
-- Sign-ins (under `supabase start`): owner@demo.careops.test / staff@demo.careops.test,
-- password careops-demo.

insert into auth.users (
    instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
values
(
    '00000000-0000-0000-0000-000000000000', 'd0000000-0000-4000-8000-000000000001',
    'authenticated', 'authenticated', 'owner@demo.careops.test',
    extensions.crypt('careops-demo', extensions.gen_salt('bf')), now(),
    '{"provider": "email", "providers": ["email"]}', '{"full_name": "Olivia Owner"}', now(), now()
),
(
    '00000000-0000-0000-0000-000000000000', 'd0000000-0000-4000-8000-000000000002',
    'authenticated', 'authenticated', 'staff@demo.careops.test',
    extensions.crypt('careops-demo', extensions.gen_salt('bf')), now(),
    '{"provider": "email", "providers": ["email"]}', '{"full_name": "Sam Staff"}', now(), now()
)
on conflict (id) do nothing;

insert into public.workspaces (id, name, slug, timezone, created_by)
values (
    'd0000000-0000-4000-8000-0000000000a1', 'Demo Clinic', 'demo-clinic', 'Europe/London',
    'd0000000-0000-4000-8000-000000000001'
)
on conflict (id) do nothing;

insert into public.workspace_members (workspace_id, user_id, role)
values
('d0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-000000000001', 'owner'),
('d0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-000000000002', 'staff')
on conflict (workspace_id, user_id) do nothing;
