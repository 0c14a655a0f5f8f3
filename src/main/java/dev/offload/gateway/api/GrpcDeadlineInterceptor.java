package dev.offload.gateway.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.TimeUnit;

/**
 * Makes a caller's gRPC deadline visible to the services whichever gRPC server Quarkus runs.
 * grpc-java's server (the gateway's own gRPC port, {@code use-separate-server=true}) turns the
 * {@code grpc-timeout} header into the {@link Context}'s deadline itself; Quarkus' Vert.x gRPC
 * server on the shared HTTP port ({@code use-separate-server=false}) does not, so a service
 * reading {@code Context.current().getDeadline()} would see none. This interceptor parses the header
 * (the gRPC wire format: up to 8 digits and a unit H, M, S, m, u or n) and records the deadline
 * under {@link #DEADLINE}; {@link #remainingMillis()} reads either.
 *
 * <p>A malformed header is ignored (the call runs without a deadline), as gRPC servers do.
 */
@GlobalInterceptor
@ApplicationScoped
@Priority(1001)
public class GrpcDeadlineInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> GRPC_TIMEOUT = Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);
    static final Context.Key<Deadline> DEADLINE = Context.key("offload-grpc-deadline");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Long nanos = parseTimeoutNanos(headers.get(GRPC_TIMEOUT));
        if (nanos == null || Context.current().getDeadline() != null) {
            return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(DEADLINE, Deadline.after(nanos, TimeUnit.NANOSECONDS)),
                call, headers, next);
    }

    /** The {@code grpc-timeout} value in nanoseconds, or null when absent or malformed. */
    static Long parseTimeoutNanos(String value) {
        if (value == null || value.length() < 2 || value.length() > 9) {
            return null;
        }
        long amount = 0;
        for (int i = 0; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
            amount = amount * 10 + (c - '0');
        }
        TimeUnit unit = switch (value.charAt(value.length() - 1)) {
            case 'H' -> TimeUnit.HOURS;
            case 'M' -> TimeUnit.MINUTES;
            case 'S' -> TimeUnit.SECONDS;
            case 'm' -> TimeUnit.MILLISECONDS;
            case 'u' -> TimeUnit.MICROSECONDS;
            case 'n' -> TimeUnit.NANOSECONDS;
            default -> null;
        };
        return unit == null ? null : unit.toNanos(amount);
    }

    /** Milliseconds left of the current call's deadline (at least 1), or null without one. */
    public static Long remainingMillis() {
        Deadline d = Context.current().getDeadline();
        if (d == null) {
            d = DEADLINE.get();
        }
        return d == null ? null : Math.max(1, d.timeRemaining(TimeUnit.MILLISECONDS));
    }
}
