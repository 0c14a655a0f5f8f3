package dev.offload.gateway.api;

import dev.offload.gateway.security.ApiKeys;
import dev.offload.gateway.security.CurrentCaller;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.io.IOException;
import java.util.List;

/** {@code /v1/admin}: operator actions; every one needs the admin role. */
@Path("/v1/admin")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AdminResource {
    @Inject
    ApiKeys keys;

    /** {@code skippedLines}: "line N: reason" for each malformed line, never the line itself. */
    public record KeysReloadResponse(boolean changed, int keys, int tenants, List<String> skippedLines) {
    }

    /** Re-reads the keys file now instead of at the next reload interval. */
    @POST
    @Path("/keys/reload")
    public KeysReloadResponse reloadKeys() throws IOException {
        CurrentCaller.requireAdmin();
        ApiKeys.ReloadResult r = keys.reload();
        return new KeysReloadResponse(r.changed(), r.keys(), r.tenants(),
                r.problems().stream().map(Object::toString).toList());
    }
}
