-- Cheaper message writes: the reminder sweep and the booking side effects (issue #8 targets).
--
-- private.queue_messages is the one writer of automated messages: every trigger calls it with
-- one request, the reminder sweep with hundreds. Its statement (the candidates, the message
-- insert, the deliver_message jobs, the conversation touch) was planned with the call's array
-- (a custom plan) on every call: the plan does not depend on the values, so plan it once per
-- session, as 20261128300100 does for the booking message functions. The same holds for the
-- job batch it calls (its statement takes the payload array). (private.send_due_reminders
-- needs nothing: its statements take no parameters, so plpgsql keeps their one plan.) Bodies
-- unchanged; a later `create or replace` of one of them must repeat the setting.
alter function private.queue_messages(private.message_request[]) set plan_cache_mode = force_generic_plan;
alter function private.enqueue_jobs(text, jsonb[]) set plan_cache_mode = force_generic_plan;

-- bookings_workspace_id_starts_at_status_idx (20261128200000) has the same keys
-- (workspace_id, starts_at) and carries status and practitioner_id besides: every query and the
-- workspace_id foreign key that used the narrower index can use it, so the narrower one is only
-- one more index write per booking.
drop index public.bookings_workspace_id_starts_at_idx;
