// The one typed client every screen uses: supabase-js with the generated `Database` types.
//
//   const supabase = createCareOpsClient(import.meta.env.VITE_SUPABASE_URL, import.meta.env.VITE_SUPABASE_ANON_KEY)
//
// Locally (`supabase start`, then `DATABASE_URL=... make dev`): URL http://127.0.0.1:54321,
// the anon key `supabase status` prints. RPCs take named parameters; a refusal is a
// PostgrestError whose `message` is the stable code of docs/errors.md.
import { createClient, type PostgrestError, type SupabaseClient } from '@supabase/supabase-js'

import type { Database } from '../../supabase/types/database.types'

export type { Database }
export type CareOps = SupabaseClient<Database>

type Public = Database['public']
/** A table's row as supabase-js returns it: `Row<'bookings'>`. */
export type Row<T extends keyof Public['Tables']> = Public['Tables'][T]['Row']
/** What an RPC takes and returns: `RpcArgs<'book_appointment'>`, `RpcResult<'book_appointment'>`. */
export type RpcArgs<F extends keyof Public['Functions']> = Public['Functions'][F]['Args']
export type RpcResult<F extends keyof Public['Functions']> = Public['Functions'][F]['Returns']

export function createCareOpsClient(url: string, anonKey: string): CareOps {
  return createClient<Database>(url, anonKey)
}

/** A refusal with its stable code (`slot_unavailable`, `not_found`, ...) and HTTP status. */
export class CareOpsError extends Error {
  constructor(
    readonly code: string,
    readonly details: string | null,
    readonly hint: string | null,
  ) {
    super(code)
    this.name = 'CareOpsError'
  }
}

/** The data of a supabase-js answer, or a thrown CareOpsError carrying the stable code. */
export function unwrap<T>({ data, error }: { data: T | null; error: PostgrestError | null }): T {
  if (error) throw new CareOpsError(error.message, error.details, error.hint)
  if (data === null) throw new CareOpsError('not_found', null, null)
  return data
}

/** Like unwrap, for calls whose answer carries no data (updates without `.select()`). */
export function check({ error }: { error: PostgrestError | null }): void {
  if (error) throw new CareOpsError(error.message, error.details, error.hint)
}
