-- The placeholder values of booking messages were planned again on every booking.
--
-- plpgsql plans a parameterised query with the call's values (a custom plan) five times,
-- then keeps the generic plan only when it looks as cheap. The six-table join of
-- private.booking_message_values estimates `b.id = any(p_booking_ids)` at ten rows in its
-- generic plan and one row in a custom plan, so it never qualified: every new booking
-- paid the planning of that join again (about 0.6 ms of 0.69 ms per call, 0.09 ms with
-- the plan kept; bench/booking.py, docs/benchmarks.md "Booking throughput with side
-- effects"). The plans of these functions do not depend on the values: plan once per
-- session, as the booking functions do. Bodies unchanged; a later `create or replace`
-- of one of them must repeat the setting.

alter function private.booking_message_values(uuid[]) set plan_cache_mode = force_generic_plan;
alter function private.queue_booking_message(uuid, text, text) set plan_cache_mode = force_generic_plan;
alter function private.announce_new_booking() set plan_cache_mode = force_generic_plan;
alter function private.queue_welcome_message() set plan_cache_mode = force_generic_plan;
