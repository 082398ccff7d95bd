-- Access tokens of an external OIDC issuer (auth.oidc.*) name their subject, tenant and
-- role themselves; platctl keeps no row for such a principal unless an admin made one
-- (principals.external_subject), which is how one is disabled before its tokens expire.
-- The server checks that before any tenant is set for row-level security, as it checks
-- API tokens (platctl_api_token_lookup): hence a definer function.

-- migrate:up
CREATE FUNCTION platctl_external_principal(tenant_name text, subject text)
RETURNS TABLE (tenant_exists boolean, principal_id uuid, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT t.id IS NOT NULL, p.id, coalesce(p.disabled, false)
      FROM (SELECT 1) one
      LEFT JOIN tenants t ON t.name = tenant_name
      LEFT JOIN principals p ON p.tenant_id = t.id AND p.external_subject = subject
$$;

-- migrate:down
DROP FUNCTION platctl_external_principal(text, text);
