package dev.offload.gateway.api;

import dev.offload.gateway.retrieval.InvalidRequestException;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Set;

/**
 * The gRPC side of {@link ReadYourWrites}: metadata {@code x-offload-min-sequence} is accepted on
 * the read methods (IndexService Search, GetDocument, Stats; QueryService Query), whose services
 * wait for the sequence ({@link #minSequence()}) and answer UNAVAILABLE when it does not arrive in
 * time; on any other method, or malformed, it is refused with INVALID_ARGUMENT.
 */
@GlobalInterceptor
@ApplicationScoped
@Priority(999)
public class GrpcReadYourWritesInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> KEY = Metadata.Key.of("x-offload-min-sequence", Metadata.ASCII_STRING_MARSHALLER);
    static final Context.Key<Long> MIN_SEQUENCE = Context.key("offload-min-sequence");
    private static final Set<String> READS = Set.of("offload.v1.IndexService/Search", "offload.v1.IndexService/GetDocument",
            "offload.v1.IndexService/Stats", "offload.v1.QueryService/Query");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String value = headers.get(KEY);
        if (value == null) {
            return next.startCall(call, headers);
        }
        long n;
        try {
            n = ReadYourWrites.parse(value);
        } catch (InvalidRequestException e) {
            call.close(Status.INVALID_ARGUMENT.withDescription("x-offload-min-sequence " + e.violations().get(0).message()),
                    new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        if (!READS.contains(call.getMethodDescriptor().getFullMethodName())) {
            call.close(Status.INVALID_ARGUMENT.withDescription("x-offload-min-sequence is honoured on reads only "
                    + "(Search, GetDocument, Stats, Query)"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(MIN_SEQUENCE, n), call, headers, next);
    }

    /** The call's token, or -1 without one. */
    static long minSequence() {
        Long n = MIN_SEQUENCE.get();
        return n == null ? -1 : n;
    }
}
