// The public booking page (anon): the page, open slots, booking, and the manage link
// (`/manage/<token>`: cancel, reschedule) and the form link (`/forms/<token>`).
// Every call here works with the anon key alone; the workspace is named by its slug.
import { type CareOps, type RpcResult, unwrap } from './client'

/** get_booking_page's JSON (jsonb: the generator types it as Json; this is its documented shape). */
export interface BookingPage {
  workspace: { name: string; slug: string; timezone: string }
  booking_types: Array<{
    id: string
    name: string
    description: string | null
    duration_minutes: number
    location: string | null
    practitioners: Array<{ id: string; display_name: string }>
  }>
}

/** The page of an active workspace; unknown, draft and suspended ones are all `not_found`. */
export async function getBookingPage(supabase: CareOps, slug: string): Promise<BookingPage> {
  const page = unwrap(await supabase.rpc('get_booking_page', { p_workspace_slug: slug }))
  return page as unknown as BookingPage
}

export type Slot = RpcResult<'get_available_slots'>[number]

/**
 * Open starts for the local dates `from..to` (ISO dates, at most 62 days) in the workspace's
 * time zone, each with the practitioners free for it. `staffId` narrows to one practitioner.
 */
export async function getAvailableSlots(
  supabase: CareOps,
  slug: string,
  bookingTypeId: string,
  from: string,
  to: string,
  staffId?: string,
): Promise<Slot[]> {
  return unwrap(
    await supabase.rpc('get_available_slots', {
      p_workspace_slug: slug,
      p_booking_type_id: bookingTypeId,
      p_from: from,
      p_to: to,
      p_staff_id: staffId,
    }),
  )
}

export type Booked = RpcResult<'book_appointment'>[number]

/**
 * Books one slot in one transaction. `staffId` asks for a practitioner, otherwise the database
 * picks a free one. The answer's `manage_token` is shown once: put it in the confirmation page's
 * manage link. Refusals: `slot_unavailable`, `too_soon`, `outside_availability`, `booking_limit_reached`, ...
 */
export async function bookAppointment(
  supabase: CareOps,
  booking: {
    slug: string
    bookingTypeId: string
    startsAt: string
    name: string
    email: string
    phone?: string
    notes?: string
    staffId?: string
  },
): Promise<Booked> {
  return unwrap(
    await supabase
      .rpc('book_appointment', {
        p_workspace_slug: booking.slug,
        p_booking_type_id: booking.bookingTypeId,
        p_starts_at: booking.startsAt,
        p_name: booking.name,
        p_email: booking.email,
        p_phone: booking.phone,
        p_notes: booking.notes,
        p_staff_id: booking.staffId,
      })
      .single(),
  )
}

export type ManagedBooking = RpcResult<'get_booking_by_token'>[number]

/**
 * The manage page (`/manage/<token>`): the booking as it is now (moved or cancelled since the
 * message was written), and `can_change`: whether cancel and reschedule are still open.
 */
export async function getBookingByToken(supabase: CareOps, token: string): Promise<ManagedBooking> {
  return unwrap(await supabase.rpc('get_booking_by_token', { p_token: token }).single())
}

/** The confirm page (`/confirm/<token>`): a held booking becomes confirmed (then its messages go). */
export async function confirmBooking(
  supabase: CareOps,
  token: string,
): Promise<RpcResult<'confirm_booking'>[number]> {
  return unwrap(await supabase.rpc('confirm_booking', { p_token: token }).single())
}

export type Cancelled = RpcResult<'cancel_booking'>[number]

/** The customer cancels from the manage link. */
export async function cancelBooking(supabase: CareOps, token: string, reason?: string): Promise<Cancelled> {
  return unwrap(await supabase.rpc('cancel_booking', { p_token: token, p_reason: reason }).single())
}

export type Rescheduled = RpcResult<'reschedule_booking'>[number]

/** The customer moves the booking (same id, same manage token) to another open start. */
export async function rescheduleBooking(
  supabase: CareOps,
  token: string,
  newStartsAt: string,
): Promise<Rescheduled> {
  return unwrap(
    await supabase.rpc('reschedule_booking', { p_token: token, p_new_starts_at: newStartsAt }).single(),
  )
}

export type FormToFill = RpcResult<'get_form'>[number]

/** The intake form behind a `/forms/<token>` link (`form_not_found` otherwise). */
export async function getForm(supabase: CareOps, token: string): Promise<FormToFill> {
  return unwrap(await supabase.rpc('get_form', { p_token: token }).single())
}

/** Answers keyed by the form's field keys; validated by the database, one code per problem. */
export async function submitForm(
  supabase: CareOps,
  token: string,
  answers: Record<string, string | boolean>,
): Promise<RpcResult<'submit_form'>[number]> {
  return unwrap(await supabase.rpc('submit_form', { p_token: token, p_answers: answers }).single())
}
