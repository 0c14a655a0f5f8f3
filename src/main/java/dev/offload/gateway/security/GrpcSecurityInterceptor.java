package dev.offload.gateway.security;

import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.Set;

/**
 * The gRPC side of device identity, for every service (global): reads metadata
 * {@code authorization: Bearer <key>}, applies the device's rate limit, and runs the call with
 * the {@link Caller} in its {@link io.grpc.Context} for {@link CurrentCaller}. Refusals close the
 * call before the service sees it: {@code UNAUTHENTICATED}, or {@code RESOURCE_EXHAUSTED} with
 * a {@code retry-after} trailer (seconds). The gRPC health service stays open, like
 * {@code /q/health}.
 *
 * <p>Called on the event loop at the start of each call; does no blocking work.
 */
@GlobalInterceptor
@ApplicationScoped
// After Quarkus's own interceptors (duplicated and request context, priorities near Integer.MAX_VALUE).
@Priority(1000)
public class GrpcSecurityInterceptor implements ServerInterceptor {
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    /** Trailer on RESOURCE_EXHAUSTED: seconds to wait, like HTTP's Retry-After. */
    public static final Metadata.Key<String> RETRY_AFTER =
            Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);
    static final Set<String> PUBLIC_SERVICES = Set.of("grpc.health.v1.Health");

    @Inject
    Authenticator authenticator;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        if (PUBLIC_SERVICES.contains(call.getMethodDescriptor().getServiceName())) {
            return next.startCall(call, headers);
        }
        Authenticator.Decision decision = authenticator.authenticate(headers.get(AUTHORIZATION), SecurityMetrics.GRPC);
        if (decision instanceof Authenticator.Admitted a) {
            return Contexts.interceptCall(CurrentCaller.grpcContext(a.caller()), call, headers, next);
        }
        Authenticator.Refused r = (Authenticator.Refused) decision;
        Metadata trailers = new Metadata();
        Status status;
        if (r.refusal() == Authenticator.Refusal.RATE_LIMITED) {
            trailers.put(RETRY_AFTER, Long.toString(r.retryAfterSeconds()));
            status = Status.RESOURCE_EXHAUSTED;
        } else {
            status = Status.UNAUTHENTICATED;
        }
        call.close(status.withDescription(r.detail()), trailers);
        return new ServerCall.Listener<>() {
        };
    }
}
