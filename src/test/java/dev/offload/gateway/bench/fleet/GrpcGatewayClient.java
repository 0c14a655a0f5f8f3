package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.api.grpc.DecideRequest;
import dev.offload.gateway.api.grpc.Device;
import dev.offload.gateway.api.grpc.LocalModel;
import dev.offload.gateway.api.grpc.Network;
import dev.offload.gateway.api.grpc.QueryEvent;
import dev.offload.gateway.api.grpc.QueryRequest;
import dev.offload.gateway.api.grpc.QueryServiceGrpc;
import dev.offload.gateway.api.grpc.Turn;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@link GatewayClient} over gRPC {@code offload.v1.QueryService} (plain-text HTTP/2 on the
 * gateway's gRPC port), with the grpc-java async stub. The call's deadline is the request timeout,
 * not the latency budget: the budget travels in the request, so a slow answer is still measured.
 * An API key goes in the {@code authorization: Bearer} metadata. Callbacks run on gRPC threads.
 */
final class GrpcGatewayClient implements GatewayClient {
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);

    private final ManagedChannel channel;
    private final QueryServiceGrpc.QueryServiceStub stub;

    GrpcGatewayClient(String host, int port, String apiKey) {
        channel = Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create()).build();
        QueryServiceGrpc.QueryServiceStub s = QueryServiceGrpc.newStub(channel);
        if (apiKey != null) {
            Metadata md = new Metadata();
            md.put(AUTHORIZATION, "Bearer " + apiKey);
            s = s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
        }
        stub = s;
    }

    @Override
    public void decide(Ask ask, Consumer<Decision> done) {
        DecideRequest.Builder db = DecideRequest.newBuilder().setText(ask.text())
                .setHistoryTokens(ask.historyTokens()).setSensitivity(ask.sensitivity())
                .setLatencyBudgetMs(ask.budgetMs()).setMaxTokens(ask.maxTokens());
        if (ask.device() != null) {
            db.setDevice(device(ask.device()));
        }
        DecideRequest req = db.build();
        int sent = req.getSerializedSize();
        stub.withDeadlineAfter(ask.timeoutMs(), TimeUnit.MILLISECONDS).decide(req, new StreamObserver<>() {
            private dev.offload.gateway.api.grpc.Hint hint;

            @Override
            public void onNext(dev.offload.gateway.api.grpc.Hint h) {
                hint = h;
            }

            @Override
            public void onError(Throwable t) {
                done.accept(new Decision(httpStatus(Status.fromThrowable(t)), null, sent, 0, String.valueOf(t)));
            }

            @Override
            public void onCompleted() {
                done.accept(new Decision(200, hint(hint), sent, hint == null ? 0 : hint.getSerializedSize(), null));
            }
        });
    }

    @Override
    public void query(Ask ask, Consumer<Answer> done) {
        QueryRequest.Builder b = QueryRequest.newBuilder().setQuery(ask.text()).setSensitivity(ask.sensitivity())
                .setLatencyBudgetMs(ask.budgetMs()).setGenerate(ask.generate()).setMaxTokens(ask.maxTokens());
        if (ask.device() != null) {
            b.setDevice(device(ask.device()));
        }
        for (Workload.Turn t : ask.history()) {
            b.addHistory(Turn.newBuilder().setRole(t.role()).setContent(t.content()));
        }
        QueryRequest req = b.build();
        StreamTally tally = new StreamTally(req.getSerializedSize());
        stub.withDeadlineAfter(ask.timeoutMs(), TimeUnit.MILLISECONDS).query(req, new StreamObserver<>() {
            @Override
            public void onNext(QueryEvent e) {
                tally.bytes(e.getSerializedSize());
                switch (e.getEventCase()) {
                    case TOKEN -> tally.token(e.getToken().getText());
                    case FINAL -> tally.completed(e.getFinal().getServedBy(),
                            e.getFinal().hasHint() ? hint(e.getFinal().getHint()) : null);
                    case ERROR -> tally.failed(e.getError().getHttpStatus(), e.getError().getReason(),
                            e.getError().hasHint() ? hint(e.getError().getHint()) : null,
                            e.getError().hasRetryAfterMs() ? e.getError().getRetryAfterMs() : null);
                    default -> {
                        // sources
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                done.accept(tally.finish(String.valueOf(t), httpStatus(Status.fromThrowable(t))));
            }

            @Override
            public void onCompleted() {
                done.accept(tally.finish(null, 0));
            }
        });
    }

    /** What REST would have answered for a gRPC status; 0 for transport failures. */
    private static int httpStatus(Status s) {
        return switch (s.getCode()) {
            case INVALID_ARGUMENT -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case RESOURCE_EXHAUSTED -> 429;
            case UNAVAILABLE -> 503;
            default -> 0;
        };
    }

    private static Device device(DeviceReport d) {
        Network.Builder n = Network.newBuilder().setType(d.network());
        if (!d.network().equals("offline")) {
            n.setRttMs(d.rttMs()).setDownlinkKbps(d.downlinkKbps()).setUplinkKbps(d.uplinkKbps());
        }
        return Device.newBuilder().setCpuUtil(d.cpuUtil()).setNpuUtil(d.npuUtil()).setMemAvailableMb(d.memAvailableMb())
                .setBatteryPct(d.batteryPct()).setCharging(d.charging()).setThermal(d.thermal()).setNetwork(n)
                .setLocalModel(LocalModel.newBuilder().setName("fleet-local-model").setTokensPerSec(d.localTokensPerSec())
                        .setMaxContextTokens(d.localMaxContextTokens()).setPrefillTokensPerSec(d.localPrefillTokensPerSec())
                        .setContextTokens(d.localContextTokens()))
                .build();
    }

    private static Hint hint(dev.offload.gateway.api.grpc.Hint h) {
        if (h == null) {
            return null;
        }
        List<String> reasons = new ArrayList<>();
        h.getReasonsList().forEach(r -> reasons.add(r.getCode()));
        String target = h.getTarget().name().replace("TARGET_", "").toUpperCase(Locale.ROOT);
        Double q = h.hasEstimates() && h.getEstimates().hasLocalQuality() ? h.getEstimates().getLocalQuality() : null;
        return new Hint(target, h.getValidForMs(), h.hasRetryAfterMs() ? h.getRetryAfterMs() : null, reasons, q);
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(10, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
