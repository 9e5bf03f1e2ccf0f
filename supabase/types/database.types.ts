export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  public: {
    Tables: {
      alerts: {
        Row: {
          created_at: string
          id: string
          kind: string
          resolved_at: string | null
          resolved_by: string | null
          severity: string
          subject_id: string
          subject_type: string
          text: string
          workspace_id: string | null
        }
        Insert: {
          created_at?: string
          id?: string
          kind: string
          resolved_at?: string | null
          resolved_by?: string | null
          severity?: string
          subject_id: string
          subject_type: string
          text: string
          workspace_id?: string | null
        }
        Update: {
          created_at?: string
          id?: string
          kind?: string
          resolved_at?: string | null
          resolved_by?: string | null
          severity?: string
          subject_id?: string
          subject_type?: string
          text?: string
          workspace_id?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "alerts_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      availability_overrides: {
        Row: {
          created_at: string
          end_time: string | null
          id: string
          note: string | null
          override_date: string
          practitioner_id: string
          start_time: string | null
          updated_at: string
          workspace_id: string
        }
        Insert: {
          created_at?: string
          end_time?: string | null
          id?: string
          note?: string | null
          override_date: string
          practitioner_id: string
          start_time?: string | null
          updated_at?: string
          workspace_id: string
        }
        Update: {
          created_at?: string
          end_time?: string | null
          id?: string
          note?: string | null
          override_date?: string
          practitioner_id?: string
          start_time?: string | null
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "availability_overrides_practitioner_fkey"
            columns: ["workspace_id", "practitioner_id"]
            isOneToOne: false
            referencedRelation: "practitioners"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "availability_overrides_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      availability_rules: {
        Row: {
          created_at: string
          end_time: string
          id: string
          practitioner_id: string
          start_time: string
          updated_at: string
          weekday: number
          workspace_id: string
        }
        Insert: {
          created_at?: string
          end_time: string
          id?: string
          practitioner_id: string
          start_time: string
          updated_at?: string
          weekday: number
          workspace_id: string
        }
        Update: {
          created_at?: string
          end_time?: string
          id?: string
          practitioner_id?: string
          start_time?: string
          updated_at?: string
          weekday?: number
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "availability_rules_practitioner_fkey"
            columns: ["workspace_id", "practitioner_id"]
            isOneToOne: false
            referencedRelation: "practitioners"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "availability_rules_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      booking_type_forms: {
        Row: {
          booking_type_id: string
          created_at: string
          form_id: string
          workspace_id: string
        }
        Insert: {
          booking_type_id: string
          created_at?: string
          form_id: string
          workspace_id: string
        }
        Update: {
          booking_type_id?: string
          created_at?: string
          form_id?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "booking_type_forms_booking_type_fkey"
            columns: ["workspace_id", "booking_type_id"]
            isOneToOne: false
            referencedRelation: "booking_types"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "booking_type_forms_form_fkey"
            columns: ["workspace_id", "form_id"]
            isOneToOne: false
            referencedRelation: "intake_forms"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "booking_type_forms_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      booking_type_inventory_usage: {
        Row: {
          booking_type_id: string
          created_at: string
          item_id: string
          quantity_per_booking: number
          updated_at: string
          workspace_id: string
        }
        Insert: {
          booking_type_id: string
          created_at?: string
          item_id: string
          quantity_per_booking: number
          updated_at?: string
          workspace_id: string
        }
        Update: {
          booking_type_id?: string
          created_at?: string
          item_id?: string
          quantity_per_booking?: number
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "booking_type_inventory_usage_booking_type_fkey"
            columns: ["workspace_id", "booking_type_id"]
            isOneToOne: false
            referencedRelation: "booking_types"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "booking_type_inventory_usage_item_fkey"
            columns: ["workspace_id", "item_id"]
            isOneToOne: false
            referencedRelation: "inventory_items"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "booking_type_inventory_usage_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      booking_type_practitioners: {
        Row: {
          booking_type_id: string
          created_at: string
          practitioner_id: string
          workspace_id: string
        }
        Insert: {
          booking_type_id: string
          created_at?: string
          practitioner_id: string
          workspace_id: string
        }
        Update: {
          booking_type_id?: string
          created_at?: string
          practitioner_id?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "booking_type_practitioners_booking_type_fkey"
            columns: ["workspace_id", "booking_type_id"]
            isOneToOne: false
            referencedRelation: "booking_types"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "booking_type_practitioners_practitioner_fkey"
            columns: ["workspace_id", "practitioner_id"]
            isOneToOne: false
            referencedRelation: "practitioners"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "booking_type_practitioners_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      booking_types: {
        Row: {
          active: boolean
          buffer_after_minutes: number
          buffer_before_minutes: number
          created_at: string
          daily_capacity: number | null
          description: string | null
          duration_minutes: number
          id: string
          location: string | null
          max_days_ahead: number
          min_notice_minutes: number
          name: string
          slot_interval_minutes: number
          updated_at: string
          workspace_id: string
        }
        Insert: {
          active?: boolean
          buffer_after_minutes?: number
          buffer_before_minutes?: number
          created_at?: string
          daily_capacity?: number | null
          description?: string | null
          duration_minutes: number
          id?: string
          location?: string | null
          max_days_ahead?: number
          min_notice_minutes?: number
          name: string
          slot_interval_minutes: number
          updated_at?: string
          workspace_id: string
        }
        Update: {
          active?: boolean
          buffer_after_minutes?: number
          buffer_before_minutes?: number
          created_at?: string
          daily_capacity?: number | null
          description?: string | null
          duration_minutes?: number
          id?: string
          location?: string | null
          max_days_ahead?: number
          min_notice_minutes?: number
          name?: string
          slot_interval_minutes?: number
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "booking_types_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      bookings: {
        Row: {
          blocked_period: unknown
          booking_type_id: string
          buffer_after_minutes: number
          buffer_before_minutes: number
          cancellation_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          closed_at: string | null
          closed_by: string | null
          confirm_token_hash: string | null
          contact_id: string
          contact_phone: string | null
          created_at: string
          created_by: string | null
          ends_at: string
          id: string
          manage_token_hash: string | null
          manage_token_nonce: string | null
          notes: string | null
          practitioner_id: string | null
          revision: number
          starts_at: string
          status: string
          updated_at: string
          workspace_id: string
        }
        Insert: {
          blocked_period?: unknown
          booking_type_id: string
          buffer_after_minutes?: number
          buffer_before_minutes?: number
          cancellation_reason?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          closed_at?: string | null
          closed_by?: string | null
          confirm_token_hash?: string | null
          contact_id: string
          contact_phone?: string | null
          created_at?: string
          created_by?: string | null
          ends_at: string
          id?: string
          manage_token_hash?: string | null
          manage_token_nonce?: string | null
          notes?: string | null
          practitioner_id?: string | null
          revision?: number
          starts_at: string
          status?: string
          updated_at?: string
          workspace_id: string
        }
        Update: {
          blocked_period?: unknown
          booking_type_id?: string
          buffer_after_minutes?: number
          buffer_before_minutes?: number
          cancellation_reason?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          closed_at?: string | null
          closed_by?: string | null
          confirm_token_hash?: string | null
          contact_id?: string
          contact_phone?: string | null
          created_at?: string
          created_by?: string | null
          ends_at?: string
          id?: string
          manage_token_hash?: string | null
          manage_token_nonce?: string | null
          notes?: string | null
          practitioner_id?: string | null
          revision?: number
          starts_at?: string
          status?: string
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "bookings_booking_type_fkey"
            columns: ["workspace_id", "booking_type_id"]
            isOneToOne: false
            referencedRelation: "booking_types"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "bookings_contact_fkey"
            columns: ["workspace_id", "contact_id"]
            isOneToOne: false
            referencedRelation: "contacts"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "bookings_practitioner_fkey"
            columns: ["workspace_id", "practitioner_id"]
            isOneToOne: false
            referencedRelation: "practitioners"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "bookings_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      communication_settings: {
        Row: {
          automation_pause_hours: number | null
          created_at: string
          email_enabled: boolean
          reply_to_email: string | null
          sender_email: string | null
          sender_name: string | null
          sms_enabled: boolean
          sms_from_number: string | null
          updated_at: string
          workspace_id: string
        }
        Insert: {
          automation_pause_hours?: number | null
          created_at?: string
          email_enabled?: boolean
          reply_to_email?: string | null
          sender_email?: string | null
          sender_name?: string | null
          sms_enabled?: boolean
          sms_from_number?: string | null
          updated_at?: string
          workspace_id: string
        }
        Update: {
          automation_pause_hours?: number | null
          created_at?: string
          email_enabled?: boolean
          reply_to_email?: string | null
          sender_email?: string | null
          sender_name?: string | null
          sms_enabled?: boolean
          sms_from_number?: string | null
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "communication_settings_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: true
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      contacts: {
        Row: {
          created_at: string
          email: string | null
          email_bounced_at: string | null
          email_unsubscribed_at: string | null
          id: string
          name: string
          phone: string | null
          source: string
          updated_at: string
          workspace_id: string
        }
        Insert: {
          created_at?: string
          email?: string | null
          email_bounced_at?: string | null
          email_unsubscribed_at?: string | null
          id?: string
          name: string
          phone?: string | null
          source?: string
          updated_at?: string
          workspace_id: string
        }
        Update: {
          created_at?: string
          email?: string | null
          email_bounced_at?: string | null
          email_unsubscribed_at?: string | null
          id?: string
          name?: string
          phone?: string | null
          source?: string
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "contacts_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      conversations: {
        Row: {
          automation_paused_by: string | null
          automation_paused_until: string | null
          contact_id: string
          created_at: string
          id: string
          last_message_at: string | null
          unread_count: number
          updated_at: string
          workspace_id: string
        }
        Insert: {
          automation_paused_by?: string | null
          automation_paused_until?: string | null
          contact_id: string
          created_at?: string
          id?: string
          last_message_at?: string | null
          unread_count?: number
          updated_at?: string
          workspace_id: string
        }
        Update: {
          automation_paused_by?: string | null
          automation_paused_until?: string | null
          contact_id?: string
          created_at?: string
          id?: string
          last_message_at?: string | null
          unread_count?: number
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "conversations_contact_fkey"
            columns: ["workspace_id", "contact_id"]
            isOneToOne: true
            referencedRelation: "contacts"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "conversations_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      form_submissions: {
        Row: {
          answers: Json | null
          booking_id: string
          completed_at: string | null
          contact_id: string
          created_at: string
          form_id: string
          id: string
          overdue_at: string | null
          sent_at: string
          status: string
          token_hash: string
          token_nonce: string | null
          updated_at: string
          workspace_id: string
        }
        Insert: {
          answers?: Json | null
          booking_id: string
          completed_at?: string | null
          contact_id: string
          created_at?: string
          form_id: string
          id?: string
          overdue_at?: string | null
          sent_at?: string
          status?: string
          token_hash: string
          token_nonce?: string | null
          updated_at?: string
          workspace_id: string
        }
        Update: {
          answers?: Json | null
          booking_id?: string
          completed_at?: string | null
          contact_id?: string
          created_at?: string
          form_id?: string
          id?: string
          overdue_at?: string | null
          sent_at?: string
          status?: string
          token_hash?: string
          token_nonce?: string | null
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "form_submissions_booking_fkey"
            columns: ["workspace_id", "booking_id"]
            isOneToOne: false
            referencedRelation: "bookings"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "form_submissions_contact_fkey"
            columns: ["workspace_id", "contact_id"]
            isOneToOne: false
            referencedRelation: "contacts"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "form_submissions_form_fkey"
            columns: ["workspace_id", "form_id"]
            isOneToOne: false
            referencedRelation: "intake_forms"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "form_submissions_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      intake_forms: {
        Row: {
          active: boolean
          created_at: string
          description: string | null
          fields: Json
          id: string
          name: string
          updated_at: string
          workspace_id: string
        }
        Insert: {
          active?: boolean
          created_at?: string
          description?: string | null
          fields: Json
          id?: string
          name: string
          updated_at?: string
          workspace_id: string
        }
        Update: {
          active?: boolean
          created_at?: string
          description?: string | null
          fields?: Json
          id?: string
          name?: string
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "intake_forms_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      inventory_items: {
        Row: {
          active: boolean
          created_at: string
          id: string
          low_stock_threshold: number
          name: string
          quantity: number
          unit: string
          updated_at: string
          workspace_id: string
        }
        Insert: {
          active?: boolean
          created_at?: string
          id?: string
          low_stock_threshold?: number
          name: string
          quantity?: number
          unit?: string
          updated_at?: string
          workspace_id: string
        }
        Update: {
          active?: boolean
          created_at?: string
          id?: string
          low_stock_threshold?: number
          name?: string
          quantity?: number
          unit?: string
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "inventory_items_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      inventory_movements: {
        Row: {
          booking_id: string | null
          created_at: string
          created_by: string | null
          delta: number
          id: string
          item_id: string
          kind: string
          quantity_after: number
          reason: string | null
          workspace_id: string
        }
        Insert: {
          booking_id?: string | null
          created_at?: string
          created_by?: string | null
          delta: number
          id?: string
          item_id: string
          kind: string
          quantity_after: number
          reason?: string | null
          workspace_id: string
        }
        Update: {
          booking_id?: string | null
          created_at?: string
          created_by?: string | null
          delta?: number
          id?: string
          item_id?: string
          kind?: string
          quantity_after?: number
          reason?: string | null
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "inventory_movements_booking_id_fkey"
            columns: ["booking_id"]
            isOneToOne: false
            referencedRelation: "bookings"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "inventory_movements_item_fkey"
            columns: ["workspace_id", "item_id"]
            isOneToOne: false
            referencedRelation: "inventory_items"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "inventory_movements_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      invitations: {
        Row: {
          accepted_at: string | null
          accepted_by: string | null
          created_at: string
          email: string
          expires_at: string
          id: string
          invited_by: string | null
          revoked_at: string | null
          role: string
          token_hash: string
          token_nonce: string | null
          workspace_id: string
        }
        Insert: {
          accepted_at?: string | null
          accepted_by?: string | null
          created_at?: string
          email: string
          expires_at: string
          id?: string
          invited_by?: string | null
          revoked_at?: string | null
          role: string
          token_hash: string
          token_nonce?: string | null
          workspace_id: string
        }
        Update: {
          accepted_at?: string | null
          accepted_by?: string | null
          created_at?: string
          email?: string
          expires_at?: string
          id?: string
          invited_by?: string | null
          revoked_at?: string | null
          role?: string
          token_hash?: string
          token_nonce?: string | null
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "invitations_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      message_templates: {
        Row: {
          body: string
          body_format: string | null
          body_placeholders: string[] | null
          channel: string
          created_at: string
          id: string
          kind: string
          subject: string | null
          subject_format: string | null
          subject_placeholders: string[] | null
          updated_at: string
          workspace_id: string
        }
        Insert: {
          body: string
          body_format?: string | null
          body_placeholders?: string[] | null
          channel: string
          created_at?: string
          id?: string
          kind: string
          subject?: string | null
          subject_format?: string | null
          subject_placeholders?: string[] | null
          updated_at?: string
          workspace_id: string
        }
        Update: {
          body?: string
          body_format?: string | null
          body_placeholders?: string[] | null
          channel?: string
          created_at?: string
          id?: string
          kind?: string
          subject?: string | null
          subject_format?: string | null
          subject_placeholders?: string[] | null
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "message_templates_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      messages: {
        Row: {
          attempts: number
          body: string
          booking_id: string | null
          booking_revision: number | null
          channel: string
          claimed_at: string | null
          conversation_id: string | null
          created_at: string
          delivered_at: string | null
          direction: string
          failed_at: string | null
          form_submission_id: string | null
          id: string
          idempotency_key: string
          kind: string
          last_error: string | null
          provider: string | null
          provider_message_id: string | null
          recipient: string | null
          recipient_user_id: string | null
          sent_at: string | null
          skip_reason: string | null
          status: string
          subject: string | null
          template_kind: string | null
          updated_at: string
          workspace_id: string
        }
        Insert: {
          attempts?: number
          body: string
          booking_id?: string | null
          booking_revision?: number | null
          channel: string
          claimed_at?: string | null
          conversation_id?: string | null
          created_at?: string
          delivered_at?: string | null
          direction: string
          failed_at?: string | null
          form_submission_id?: string | null
          id?: string
          idempotency_key: string
          kind: string
          last_error?: string | null
          provider?: string | null
          provider_message_id?: string | null
          recipient?: string | null
          recipient_user_id?: string | null
          sent_at?: string | null
          skip_reason?: string | null
          status: string
          subject?: string | null
          template_kind?: string | null
          updated_at?: string
          workspace_id: string
        }
        Update: {
          attempts?: number
          body?: string
          booking_id?: string | null
          booking_revision?: number | null
          channel?: string
          claimed_at?: string | null
          conversation_id?: string | null
          created_at?: string
          delivered_at?: string | null
          direction?: string
          failed_at?: string | null
          form_submission_id?: string | null
          id?: string
          idempotency_key?: string
          kind?: string
          last_error?: string | null
          provider?: string | null
          provider_message_id?: string | null
          recipient?: string | null
          recipient_user_id?: string | null
          sent_at?: string | null
          skip_reason?: string | null
          status?: string
          subject?: string | null
          template_kind?: string | null
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "messages_booking_fkey"
            columns: ["booking_id"]
            isOneToOne: false
            referencedRelation: "bookings"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_conversation_fkey"
            columns: ["workspace_id", "conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["workspace_id", "id"]
          },
          {
            foreignKeyName: "messages_form_submission_fkey"
            columns: ["form_submission_id"]
            isOneToOne: false
            referencedRelation: "form_submissions"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      practitioners: {
        Row: {
          active: boolean
          created_at: string
          id: string
          updated_at: string
          user_id: string
          workspace_id: string
        }
        Insert: {
          active?: boolean
          created_at?: string
          id?: string
          updated_at?: string
          user_id: string
          workspace_id: string
        }
        Update: {
          active?: boolean
          created_at?: string
          id?: string
          updated_at?: string
          user_id?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "practitioners_member_fkey"
            columns: ["workspace_id", "user_id"]
            isOneToOne: true
            referencedRelation: "workspace_members"
            referencedColumns: ["workspace_id", "user_id"]
          },
          {
            foreignKeyName: "practitioners_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "practitioners_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      profiles: {
        Row: {
          created_at: string
          email: string | null
          full_name: string
          id: string
          updated_at: string
        }
        Insert: {
          created_at?: string
          email?: string | null
          full_name?: string
          id: string
          updated_at?: string
        }
        Update: {
          created_at?: string
          email?: string | null
          full_name?: string
          id?: string
          updated_at?: string
        }
        Relationships: []
      }
      sender_identities: {
        Row: {
          created_at: string
          id: string
          kind: string
          requested_by: string | null
          revoked_at: string | null
          status: string
          updated_at: string
          value: string
          verified_at: string | null
          workspace_id: string
        }
        Insert: {
          created_at?: string
          id?: string
          kind: string
          requested_by?: string | null
          revoked_at?: string | null
          status?: string
          updated_at?: string
          value: string
          verified_at?: string | null
          workspace_id: string
        }
        Update: {
          created_at?: string
          id?: string
          kind?: string
          requested_by?: string | null
          revoked_at?: string | null
          status?: string
          updated_at?: string
          value?: string
          verified_at?: string | null
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "sender_identities_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      sms_opt_outs: {
        Row: {
          keyword: string
          message_id: string | null
          opt_out_type: string | null
          opted_out_at: string
          phone: string
          workspace_id: string
        }
        Insert: {
          keyword: string
          message_id?: string | null
          opt_out_type?: string | null
          opted_out_at?: string
          phone: string
          workspace_id: string
        }
        Update: {
          keyword?: string
          message_id?: string | null
          opt_out_type?: string | null
          opted_out_at?: string
          phone?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "sms_opt_outs_message_id_fkey"
            columns: ["message_id"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "sms_opt_outs_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      unroutable_messages: {
        Row: {
          body: string
          channel: string
          event_id: string
          provider: string
          received_at: string
          recipients: string[]
          sender: string | null
          subject: string | null
        }
        Insert: {
          body: string
          channel: string
          event_id: string
          provider: string
          received_at?: string
          recipients: string[]
          sender?: string | null
          subject?: string | null
        }
        Update: {
          body?: string
          channel?: string
          event_id?: string
          provider?: string
          received_at?: string
          recipients?: string[]
          sender?: string | null
          subject?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "unroutable_messages_event_fkey"
            columns: ["provider", "event_id"]
            isOneToOne: true
            referencedRelation: "webhook_events"
            referencedColumns: ["provider", "event_id"]
          },
        ]
      }
      webhook_events: {
        Row: {
          event_id: string
          event_type: string
          message_id: string | null
          outcome: string
          provider: string
          received_at: string
          workspace_id: string | null
        }
        Insert: {
          event_id: string
          event_type: string
          message_id?: string | null
          outcome: string
          provider: string
          received_at?: string
          workspace_id?: string | null
        }
        Update: {
          event_id?: string
          event_type?: string
          message_id?: string | null
          outcome?: string
          provider?: string
          received_at?: string
          workspace_id?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "webhook_events_message_id_fkey"
            columns: ["message_id"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "webhook_events_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      workspace_closures: {
        Row: {
          closed_on: string
          created_at: string
          id: string
          note: string | null
          updated_at: string
          workspace_id: string
        }
        Insert: {
          closed_on: string
          created_at?: string
          id?: string
          note?: string | null
          updated_at?: string
          workspace_id: string
        }
        Update: {
          closed_on?: string
          created_at?: string
          id?: string
          note?: string | null
          updated_at?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "workspace_closures_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      workspace_members: {
        Row: {
          created_at: string
          role: string
          updated_at: string
          user_id: string
          workspace_id: string
        }
        Insert: {
          created_at?: string
          role: string
          updated_at?: string
          user_id: string
          workspace_id: string
        }
        Update: {
          created_at?: string
          role?: string
          updated_at?: string
          user_id?: string
          workspace_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "workspace_members_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "workspace_members_workspace_id_fkey"
            columns: ["workspace_id"]
            isOneToOne: false
            referencedRelation: "workspaces"
            referencedColumns: ["id"]
          },
        ]
      }
      workspaces: {
        Row: {
          created_at: string
          created_by: string | null
          id: string
          max_active_bookings_per_email: number
          name: string
          slug: string
          status: string
          timezone: string
          updated_at: string
        }
        Insert: {
          created_at?: string
          created_by?: string | null
          id?: string
          max_active_bookings_per_email?: number
          name: string
          slug: string
          status?: string
          timezone: string
          updated_at?: string
        }
        Update: {
          created_at?: string
          created_by?: string | null
          id?: string
          max_active_bookings_per_email?: number
          name?: string
          slug?: string
          status?: string
          timezone?: string
          updated_at?: string
        }
        Relationships: []
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      accept_invitation: {
        Args: { p_token: string }
        Returns: {
          created_at: string
          role: string
          updated_at: string
          user_id: string
          workspace_id: string
        }
        SetofOptions: {
          from: "*"
          to: "workspace_members"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      activate_workspace: { Args: { p_workspace_id: string }; Returns: Json }
      adjust_stock: {
        Args: { p_delta: number; p_item_id: string; p_reason: string }
        Returns: {
          active: boolean
          created_at: string
          id: string
          low_stock_threshold: number
          name: string
          quantity: number
          unit: string
          updated_at: string
          workspace_id: string
        }
        SetofOptions: {
          from: "*"
          to: "inventory_items"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      book_appointment: {
        Args: {
          p_booking_type_id: string
          p_email: string
          p_name: string
          p_notes?: string
          p_phone?: string
          p_staff_id?: string
          p_starts_at: string
          p_workspace_slug: string
        }
        Returns: {
          booking_id: string
          ends_at: string
          manage_token: string
          practitioner_id: string
          practitioner_name: string
          starts_at: string
        }[]
      }
      cancel_booking: {
        Args: { p_reason?: string; p_token: string }
        Returns: {
          booking_id: string
          starts_at: string
          status: string
        }[]
      }
      cancel_workspace_booking: {
        Args: { p_booking_id: string; p_reason?: string }
        Returns: {
          booking_id: string
          starts_at: string
          status: string
        }[]
      }
      complete_booking: {
        Args: { p_booking_id: string }
        Returns: {
          blocked_period: unknown
          booking_type_id: string
          buffer_after_minutes: number
          buffer_before_minutes: number
          cancellation_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          closed_at: string | null
          closed_by: string | null
          confirm_token_hash: string | null
          contact_id: string
          contact_phone: string | null
          created_at: string
          created_by: string | null
          ends_at: string
          id: string
          manage_token_hash: string | null
          manage_token_nonce: string | null
          notes: string | null
          practitioner_id: string | null
          revision: number
          starts_at: string
          status: string
          updated_at: string
          workspace_id: string
        }
        SetofOptions: {
          from: "*"
          to: "bookings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      confirm_booking: {
        Args: { p_token: string }
        Returns: {
          booking_id: string
          starts_at: string
          status: string
        }[]
      }
      create_calendar_feed: {
        Args: { p_workspace_id: string }
        Returns: {
          created_at: string
          token: string
        }[]
      }
      create_workspace: {
        Args: { p_name: string; p_slug: string; p_timezone: string }
        Returns: {
          created_at: string
          created_by: string | null
          id: string
          max_active_bookings_per_email: number
          name: string
          slug: string
          status: string
          timezone: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "workspaces"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      dashboard_stats: { Args: { p_workspace_id: string }; Returns: Json }
      delete_workspace: {
        Args: { p_confirm_slug: string; p_workspace_id: string }
        Returns: {
          created_at: string
          created_by: string | null
          id: string
          max_active_bookings_per_email: number
          name: string
          slug: string
          status: string
          timezone: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "workspaces"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      get_available_slots: {
        Args: {
          p_booking_type_id: string
          p_from: string
          p_staff_id?: string
          p_to: string
          p_workspace_slug: string
        }
        Returns: {
          ends_at: string
          practitioner_ids: string[]
          starts_at: string
        }[]
      }
      get_booking_by_token: {
        Args: { p_token: string }
        Returns: {
          booking_id: string
          booking_type_id: string
          booking_type_name: string
          can_change: boolean
          cancelled_at: string
          ends_at: string
          location: string
          practitioner_name: string
          starts_at: string
          status: string
          timezone: string
          workspace_name: string
          workspace_slug: string
        }[]
      }
      get_booking_page: { Args: { p_workspace_slug: string }; Returns: Json }
      get_form: {
        Args: { p_token: string }
        Returns: {
          booking_starts_at: string
          contact_name: string
          fields: Json
          form_description: string
          form_name: string
          status: string
          workspace_name: string
          workspace_timezone: string
        }[]
      }
      invite_member: {
        Args: {
          p_email: string
          p_role?: string
          p_valid_days?: number
          p_workspace_id: string
        }
        Returns: {
          email: string
          expires_at: string
          invitation_id: string
          role: string
          token: string
        }[]
      }
      mark_conversation_read: {
        Args: { p_conversation_id: string }
        Returns: {
          automation_paused_by: string | null
          automation_paused_until: string | null
          contact_id: string
          created_at: string
          id: string
          last_message_at: string | null
          unread_count: number
          updated_at: string
          workspace_id: string
        }
        SetofOptions: {
          from: "*"
          to: "conversations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      mark_no_show: {
        Args: { p_booking_id: string }
        Returns: {
          blocked_period: unknown
          booking_type_id: string
          buffer_after_minutes: number
          buffer_before_minutes: number
          cancellation_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          closed_at: string | null
          closed_by: string | null
          confirm_token_hash: string | null
          contact_id: string
          contact_phone: string | null
          created_at: string
          created_by: string | null
          ends_at: string
          id: string
          manage_token_hash: string | null
          manage_token_nonce: string | null
          notes: string | null
          practitioner_id: string | null
          revision: number
          starts_at: string
          status: string
          updated_at: string
          workspace_id: string
        }
        SetofOptions: {
          from: "*"
          to: "bookings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      reschedule_booking: {
        Args: { p_new_starts_at: string; p_token: string }
        Returns: {
          booking_id: string
          ends_at: string
          practitioner_id: string
          practitioner_name: string
          starts_at: string
        }[]
      }
      reschedule_workspace_booking: {
        Args: {
          p_booking_id: string
          p_new_starts_at: string
          p_staff_id?: string
        }
        Returns: {
          booking_id: string
          ends_at: string
          practitioner_id: string
          practitioner_name: string
          starts_at: string
        }[]
      }
      resolve_alert: {
        Args: { p_alert_id: string }
        Returns: {
          created_at: string
          id: string
          kind: string
          resolved_at: string | null
          resolved_by: string | null
          severity: string
          subject_id: string
          subject_type: string
          text: string
          workspace_id: string | null
        }
        SetofOptions: {
          from: "*"
          to: "alerts"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      resume_automation: {
        Args: { p_conversation_id: string }
        Returns: {
          automation_paused_by: string | null
          automation_paused_until: string | null
          contact_id: string
          created_at: string
          id: string
          last_message_at: string | null
          unread_count: number
          updated_at: string
          workspace_id: string
        }
        SetofOptions: {
          from: "*"
          to: "conversations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      retry_failed_messages: {
        Args: { p_message_ids?: string[]; p_workspace_id: string }
        Returns: number
      }
      revoke_calendar_feed: {
        Args: { p_workspace_id: string }
        Returns: boolean
      }
      revoke_invitation: {
        Args: { p_invitation_id: string }
        Returns: {
          accepted_at: string | null
          accepted_by: string | null
          created_at: string
          email: string
          expires_at: string
          id: string
          invited_by: string | null
          revoked_at: string | null
          role: string
          token_hash: string
          token_nonce: string | null
          workspace_id: string
        }
        SetofOptions: {
          from: "*"
          to: "invitations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      send_message: {
        Args: {
          p_body: string
          p_channel: string
          p_conversation_id: string
          p_subject?: string
        }
        Returns: {
          attempts: number
          body: string
          booking_id: string | null
          booking_revision: number | null
          channel: string
          claimed_at: string | null
          conversation_id: string | null
          created_at: string
          delivered_at: string | null
          direction: string
          failed_at: string | null
          form_submission_id: string | null
          id: string
          idempotency_key: string
          kind: string
          last_error: string | null
          provider: string | null
          provider_message_id: string | null
          recipient: string | null
          recipient_user_id: string | null
          sent_at: string | null
          skip_reason: string | null
          status: string
          subject: string | null
          template_kind: string | null
          updated_at: string
          workspace_id: string
        }
        SetofOptions: {
          from: "*"
          to: "messages"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      sms_opted_out: {
        Args: { p_contact: Database["public"]["Tables"]["contacts"]["Row"] }
        Returns: boolean
      }
      submit_form: {
        Args: { p_answers: Json; p_token: string }
        Returns: {
          completed_at: string
          status: string
        }[]
      }
      suspend_workspace: { Args: { p_workspace_id: string }; Returns: Json }
      workspace_activation_status: {
        Args: { p_workspace_id: string }
        Returns: Json
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    keyof DefaultSchema["Tables"] | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    keyof DefaultSchema["Tables"] | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    keyof DefaultSchema["Enums"] | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  public: {
    Enums: {},
  },
} as const

