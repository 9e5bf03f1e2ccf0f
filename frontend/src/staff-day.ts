// The staff day (authenticated, under RLS): the day's bookings with who and what, closing
// visits (completion takes stock), moving or cancelling for a customer, open alerts,
// forms waiting, and stock.
import { type CareOps, type Row, type RpcResult, unwrap } from './client'

export type DayBooking = Row<'bookings'> & {
  contact: Pick<Row<'contacts'>, 'id' | 'name' | 'email' | 'phone'> | null
  booking_type: Pick<Row<'booking_types'>, 'id' | 'name' | 'duration_minutes'> | null
  practitioner: { id: string; profile: Pick<Row<'profiles'>, 'full_name'> | null } | null
}

/**
 * Bookings starting in [from, to) (timestamps: a local day's bounds in the workspace's zone),
 * cancelled ones left out, in start order. `practitionerId` narrows to one person's day.
 */
export async function bookingsBetween(
  supabase: CareOps,
  workspaceId: string,
  from: string,
  to: string,
  practitionerId?: string,
): Promise<DayBooking[]> {
  let query = supabase
    .from('bookings')
    // One literal string: supabase-js types the answer by parsing it.
    .select(
      '*, contact:contacts(id, name, email, phone), booking_type:booking_types(id, name, duration_minutes), practitioner:practitioners!bookings_practitioner_fkey(id, profile:profiles(full_name))',
    )
    .eq('workspace_id', workspaceId)
    .neq('status', 'cancelled')
    .gte('starts_at', from)
    .lt('starts_at', to)
  if (practitionerId) query = query.eq('practitioner_id', practitionerId)
  return unwrap(await query.order('starts_at'))
}

/** A visit that happened: closes it and takes the booking type's stock (`insufficient_stock`: nothing). */
export async function completeBooking(supabase: CareOps, bookingId: string): Promise<Row<'bookings'>> {
  return unwrap(await supabase.rpc('complete_booking', { p_booking_id: bookingId }).single())
}

export async function markNoShow(supabase: CareOps, bookingId: string): Promise<Row<'bookings'>> {
  return unwrap(await supabase.rpc('mark_no_show', { p_booking_id: bookingId }).single())
}

export async function cancelForCustomer(
  supabase: CareOps,
  bookingId: string,
  reason?: string,
): Promise<RpcResult<'cancel_workspace_booking'>[number]> {
  return unwrap(
    await supabase.rpc('cancel_workspace_booking', { p_booking_id: bookingId, p_reason: reason }).single(),
  )
}

export async function rescheduleForCustomer(
  supabase: CareOps,
  bookingId: string,
  newStartsAt: string,
  staffId?: string,
): Promise<RpcResult<'reschedule_workspace_booking'>[number]> {
  return unwrap(
    await supabase
      .rpc('reschedule_workspace_booking', {
        p_booking_id: bookingId,
        p_new_starts_at: newStartsAt,
        p_staff_id: staffId,
      })
      .single(),
  )
}

/** Open alerts, newest first (low stock, overdue forms, failed messages, bounces). */
export async function openAlerts(supabase: CareOps, workspaceId: string): Promise<Row<'alerts'>[]> {
  return unwrap(
    await supabase
      .from('alerts')
      .select('*')
      .eq('workspace_id', workspaceId)
      .is('resolved_at', null)
      .order('created_at', { ascending: false }),
  )
}

export async function resolveAlert(supabase: CareOps, alertId: string): Promise<Row<'alerts'>> {
  return unwrap(await supabase.rpc('resolve_alert', { p_alert_id: alertId }).single())
}

export type WaitingForm = Row<'form_submissions'> & {
  contact: Pick<Row<'contacts'>, 'name' | 'email'> | null
  form: Pick<Row<'intake_forms'>, 'name'> | null
}

/** Forms sent and not filled in yet: `pending`, then `overdue` 48 h after they were sent. */
export async function waitingForms(supabase: CareOps, workspaceId: string): Promise<WaitingForm[]> {
  return unwrap(
    await supabase
      .from('form_submissions')
      .select('*, contact:contacts(name, email), form:intake_forms(name)')
      .eq('workspace_id', workspaceId)
      .in('status', ['pending', 'overdue'])
      .order('sent_at'),
  )
}

/** A filled-in form's answers, keyed by the form's field keys. */
export async function submission(supabase: CareOps, submissionId: string): Promise<Row<'form_submissions'>> {
  return unwrap(await supabase.from('form_submissions').select('*').eq('id', submissionId).single())
}

export async function stock(supabase: CareOps, workspaceId: string): Promise<Row<'inventory_items'>[]> {
  return unwrap(
    await supabase.from('inventory_items').select('*').eq('workspace_id', workspaceId).eq('active', true).order('name'),
  )
}

/** A delivery or a loss, with its reason (an inventory_movements row); never below zero. */
export async function adjustStock(
  supabase: CareOps,
  itemId: string,
  delta: number,
  reason: string,
): Promise<Row<'inventory_items'>> {
  return unwrap(await supabase.rpc('adjust_stock', { p_item_id: itemId, p_delta: delta, p_reason: reason }).single())
}

/**
 * The practitioner's calendar subscription: a token shown once; the calendar app subscribes to
 * `{edgeApiUrl}/calendar/<token>.ics`. A new token replaces the old one.
 */
export async function createCalendarFeed(
  supabase: CareOps,
  workspaceId: string,
): Promise<RpcResult<'create_calendar_feed'>[number]> {
  return unwrap(await supabase.rpc('create_calendar_feed', { p_workspace_id: workspaceId }).single())
}

export async function revokeCalendarFeed(supabase: CareOps, workspaceId: string): Promise<boolean> {
  return unwrap(await supabase.rpc('revoke_calendar_feed', { p_workspace_id: workspaceId }))
}
