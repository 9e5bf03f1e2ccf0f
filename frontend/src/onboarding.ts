// Owner onboarding (authenticated): the workspace, then activation, which says what is missing.
// Settings, booking types, hours, forms and stock are plain table writes under RLS
// (`supabase.from('booking_types').insert(...)`); these are the steps that are RPCs.
import { type CareOps, type Row, type RpcResult, unwrap } from './client'

/** The caller becomes its owner and first practitioner; new workspaces are `draft`. */
export async function createWorkspace(
  supabase: CareOps,
  name: string,
  slug: string,
  timezone: string,
): Promise<Row<'workspaces'>> {
  return unwrap(
    await supabase.rpc('create_workspace', { p_name: name, p_slug: slug, p_timezone: timezone }).single(),
  )
}

/** workspace_activation_status / activate_workspace JSON (jsonb: typed here, documented in docs/backend.md). */
export interface ActivationReport {
  workspace_id: string
  status: 'draft' | 'active' | 'suspended'
  ready: boolean
  checklist: Array<{ code: string; done: boolean; description: string }>
  missing: string[]
  activated?: boolean
}

export async function activationStatus(supabase: CareOps, workspaceId: string): Promise<ActivationReport> {
  const report = unwrap(await supabase.rpc('workspace_activation_status', { p_workspace_id: workspaceId }))
  return report as unknown as ActivationReport
}

/** Activates when nothing is missing; otherwise changes nothing and lists `missing`. */
export async function activate(supabase: CareOps, workspaceId: string): Promise<ActivationReport> {
  const report = unwrap(await supabase.rpc('activate_workspace', { p_workspace_id: workspaceId }))
  return report as unknown as ActivationReport
}

/** The token is returned once, for the owner's own link; the worker emails the invitation. */
export async function inviteMember(
  supabase: CareOps,
  workspaceId: string,
  email: string,
  role: 'owner' | 'staff' = 'staff',
): Promise<RpcResult<'invite_member'>[number]> {
  return unwrap(
    await supabase.rpc('invite_member', { p_workspace_id: workspaceId, p_email: email, p_role: role }).single(),
  )
}

export async function acceptInvitation(supabase: CareOps, token: string): Promise<Row<'workspace_members'>> {
  return unwrap(await supabase.rpc('accept_invitation', { p_token: token }).single())
}
