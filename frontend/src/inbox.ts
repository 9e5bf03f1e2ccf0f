// The staff inbox (authenticated, under RLS): one conversation per contact, its messages,
// replies through the queue, read state shared by the workspace, and live updates.
// Every query filters on workspace_id: that is what the indexes are built for.
import type { RealtimeChannel } from '@supabase/supabase-js'

import { type CareOps, type Row, check, unwrap } from './client'

export type Conversation = Row<'conversations'> & {
  contact: Pick<Row<'contacts'>, 'id' | 'name' | 'email' | 'phone'> | null
}
export type Message = Row<'messages'>

/** The newest conversations first, each with its contact (conversations_workspace_id_last_message_at_idx). */
export async function listConversations(
  supabase: CareOps,
  workspaceId: string,
  limit = 50,
): Promise<Conversation[]> {
  return unwrap(
    await supabase
      .from('conversations')
      .select('*, contact:contacts(id, name, email, phone)')
      .eq('workspace_id', workspaceId)
      .order('last_message_at', { ascending: false, nullsFirst: false })
      .limit(limit),
  )
}

/** Only the conversations waiting for someone (conversations_workspace_id_unread_idx, partial). */
export async function listUnread(supabase: CareOps, workspaceId: string): Promise<Conversation[]> {
  return unwrap(
    await supabase
      .from('conversations')
      .select('*, contact:contacts(id, name, email, phone)')
      .eq('workspace_id', workspaceId)
      .gt('unread_count', 0)
      .order('last_message_at', { ascending: false, nullsFirst: false }),
  )
}

/** The badge: unread inbound messages over all conversations. */
export async function unreadTotal(supabase: CareOps, workspaceId: string): Promise<number> {
  const rows = unwrap(
    await supabase
      .from('conversations')
      .select('unread_count')
      .eq('workspace_id', workspaceId)
      .gt('unread_count', 0),
  )
  return rows.reduce((sum, row) => sum + row.unread_count, 0)
}

/** A thread, newest first (messages_conversation_id_created_at_idx); page with `before`. */
export async function thread(
  supabase: CareOps,
  workspaceId: string,
  conversationId: string,
  before?: string,
  limit = 50,
): Promise<Message[]> {
  let query = supabase
    .from('messages')
    .select('*')
    .eq('workspace_id', workspaceId)
    .eq('conversation_id', conversationId)
  if (before) query = query.lt('created_at', before)
  return unwrap(await query.order('created_at', { ascending: false }).limit(limit))
}

/** Opening a conversation clears its unread count for the whole team. */
export async function markRead(supabase: CareOps, conversationId: string): Promise<void> {
  check(await supabase.rpc('mark_conversation_read', { p_conversation_id: conversationId }))
}

/**
 * A staff reply: queued and delivered by the worker like any message. It pauses automation for
 * the contact (automation_pause_hours; `automation_paused_until` on the conversation).
 * Refusals: `channel_disabled`, `no_contact_address`, `email_bounced`, `invalid_body`, ...
 */
export async function reply(
  supabase: CareOps,
  conversationId: string,
  body: string,
  channel: 'email' | 'sms',
  subject?: string,
): Promise<Message> {
  return unwrap(
    await supabase
      .rpc('send_message', {
        p_conversation_id: conversationId,
        p_body: body,
        p_channel: channel,
        p_subject: subject,
      })
      .single(),
  )
}

/** Automated messages go to the contact again (the reply's pause ends now). */
export async function resumeAutomation(supabase: CareOps, conversationId: string): Promise<Row<'conversations'>> {
  return unwrap(await supabase.rpc('resume_automation', { p_conversation_id: conversationId }).single())
}

/**
 * Live inbox: new messages (inbound ones raise the unread count) and conversation changes
 * (unread count, last message, pause). Realtime applies RLS, and the filter keeps the
 * channel to one workspace. Call `supabase.removeChannel(channel)` when the screen closes.
 */
export function subscribeToInbox(
  supabase: CareOps,
  workspaceId: string,
  on: {
    message: (message: Message) => void
    conversation: (conversation: Row<'conversations'>) => void
  },
): RealtimeChannel {
  const filter = `workspace_id=eq.${workspaceId}`
  return supabase
    .channel(`inbox:${workspaceId}`)
    .on<Message>('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages', filter }, (change) =>
      on.message(change.new),
    )
    .on<Message>('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'messages', filter }, (change) =>
      on.message(change.new),
    )
    .on<Row<'conversations'>>(
      'postgres_changes',
      { event: '*', schema: 'public', table: 'conversations', filter },
      (change) => {
        if (change.eventType !== 'DELETE') on.conversation(change.new)
      },
    )
    .subscribe()
}
