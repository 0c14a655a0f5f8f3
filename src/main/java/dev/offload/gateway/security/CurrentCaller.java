package dev.offload.gateway.security;

import io.grpc.Context;
import io.smallrye.common.vertx.ContextLocals;
import io.smallrye.common.vertx.VertxContext;

/**
 * The authenticated caller of the request being served: the one way to learn the tenant.
 * Works unchanged in JAX-RS resources (event loop or worker), Vert.x routes and gRPC services
 * (event loop or {@code @Blocking}); the tenant never comes from a body, a header or a path.
 *
 * <pre>{@code
 * String tenant = CurrentCaller.tenant();   // scope every read and write to this
 * CurrentCaller.requireAdmin();             // operator-only actions: 403 / PERMISSION_DENIED otherwise
 * }</pre>
 *
 * <p>Read it on the request's own thread, before hopping to another executor (a Mutiny
 * {@code emitOn}, a {@code CompletableFuture}): capture the tenant in a local first. Where no
 * caller is bound it throws {@link NotAuthenticatedException} (401 / {@code UNAUTHENTICATED}):
 * fail closed, never a default tenant.
 *
 * <p>Bound by {@link HttpSecurityFilter} (a Vert.x duplicated-context local, which Quarkus
 * carries to the worker thread of a blocking endpoint) and by {@link GrpcSecurityInterceptor}
 * (an {@link io.grpc.Context} value, which Quarkus attaches around blocking gRPC methods).
 */
public final class CurrentCaller {
    static final Context.Key<Caller> GRPC_KEY = Context.key("dev.offload.gateway.caller");
    static final String VERTX_KEY = "dev.offload.gateway.caller";

    private CurrentCaller() {
    }

    /** The caller, or {@link NotAuthenticatedException} if this request has none. */
    public static Caller get() {
        Caller c = GRPC_KEY.get();
        if (c != null) {
            return c;
        }
        if (VertxContext.isOnDuplicatedContext()) {
            c = ContextLocals.get(VERTX_KEY, null);
            if (c != null) {
                return c;
            }
        }
        throw new NotAuthenticatedException("no authenticated caller is bound to this request");
    }

    /** The caller's tenant. */
    public static String tenant() {
        return get().tenant();
    }

    /** The caller, if it has the admin role; {@link AccessDeniedException} otherwise. */
    public static Caller requireAdmin() {
        Caller c = get();
        if (!c.isAdmin()) {
            SecurityMetrics.authFailure("forbidden", GRPC_KEY.get() != null ? SecurityMetrics.GRPC : SecurityMetrics.HTTP);
            throw new AccessDeniedException("this operation needs the admin role");
        }
        return c;
    }

    /** Binds the caller to the current Vert.x duplicated context (the HTTP request's). */
    static void bindToVertxContext(Caller caller) {
        ContextLocals.put(VERTX_KEY, caller);
    }

    /** A gRPC context carrying the caller, for the rest of the call. */
    static Context grpcContext(Caller caller) {
        return Context.current().withValue(GRPC_KEY, caller);
    }
}
