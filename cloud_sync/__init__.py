"""Larder cloud sync: Supabase schema, upload worker and catalogue download."""
