package dev.offload.gateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.offload.gateway.generation.ChatTurn;
import dev.offload.gateway.generation.Priority;
import dev.offload.gateway.offload.policy.DeviceTelemetry;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.pipeline.Query;
import dev.offload.gateway.pipeline.QueryEvent;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.InvalidRequestException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** JSON payloads of {@code /v1/query} and {@code /v1/offload/decide}, and their conversion to the core's types. */
public final class QueryApi {
    private QueryApi() {
    }

    public record Turn(String role, String content) {
    }

    public record NetworkInfo(String type, Double rttMs, Double downlinkKbps, Double uplinkKbps) {
    }

    public record LocalModelInfo(String name, Double tokensPerSec, Integer maxContextTokens, Double prefillTokensPerSec,
                                 Integer contextTokens) {
    }

    public record Device(Double cpuUtil, Double npuUtil, Integer memAvailableMb, Double batteryPct, Boolean charging,
                         String thermal, NetworkInfo network, LocalModelInfo localModel) {
    }

    /**
     * {@code generate}: {@code always} (default), {@code unless-local} (sources and hint only when
     * the hint says LOCAL), {@code never}, {@code cache-only} (a cached answer, or the hint alone:
     * no search, no generation). {@code priority}: {@code interactive|background}.
     */
    public record QueryRequest(String query, List<Turn> history, Integer k, Map<String, String> filter,
                               String sensitivity, Long latencyBudgetMs, Device device, String generate,
                               Integer maxTokens, Double temperature, String priority) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record QueryResponse(String answer, List<QueryEvent.SourceRef> sources, String servedBy, OffloadHint hint,
                                QueryEvent.Timings timings, String fallbackReason, Double cacheSimilarity) {
    }

    public record QueryText(String text, Integer historyTokens, String sensitivity) {
    }

    /** @param maxTokens the answer cap the device will ask for; the policy's output estimate never exceeds it */
    public record DecideRequest(Device device, QueryText query, Long latencyBudgetMs, Integer maxTokens) {
    }

    /** problem+json of a refused or failed query: the hint tells the device what to do instead. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HintedProblem(String type, String title, int status, String detail, String reason,
                                Long retryAfterMs, OffloadHint hint) {
    }

    /** Converts and validates; every bad value becomes a 400 naming its field. */
    static Query toQuery(QueryRequest r) {
        if (r == null) {
            throw InvalidRequestException.of("query", "must not be empty");
        }
        List<ChatTurn> history = new ArrayList<>();
        if (r.history() != null) {
            for (int i = 0; i < r.history().size(); i++) {
                Turn t = r.history().get(i);
                if (t == null || t.role() == null || t.content() == null) {
                    throw InvalidRequestException.of("history[" + i + "]", "needs a role and a content");
                }
                history.add(new ChatTurn(t.role().toLowerCase(Locale.ROOT), t.content()));
            }
        }
        Priority priority;
        if (r.priority() == null || r.priority().isBlank()) {
            priority = null;
        } else if (r.priority().equalsIgnoreCase("interactive") || r.priority().equalsIgnoreCase("background")) {
            priority = Priority.valueOf(r.priority().toUpperCase(Locale.ROOT));
        } else {
            throw InvalidRequestException.of("priority", "must be interactive or background");
        }
        return new Query(r.query(), history, r.k(), r.filter(), sensitivity("sensitivity", r.sensitivity()),
                r.latencyBudgetMs(), device(r.device()), field("generate", () -> Query.Generate.parse(r.generate())),
                r.maxTokens(), r.temperature(), priority);
    }

    static Sensitivity sensitivity(String field, String value) {
        return field(field, () -> Sensitivity.parse(value, null));
    }

    static DeviceTelemetry device(Device d) {
        if (d == null) {
            return null;
        }
        NetworkInfo n = d.network();
        DeviceTelemetry.Network network = n == null ? null : field("device.network", () -> new DeviceTelemetry.Network(
                field("device.network.type", () -> DeviceTelemetry.NetworkType.parse(n.type())),
                n.rttMs(), n.downlinkKbps(), n.uplinkKbps()));
        LocalModelInfo m = d.localModel();
        DeviceTelemetry.LocalModel local = m == null ? null : field("device.localModel",
                () -> new DeviceTelemetry.LocalModel(m.name(), m.tokensPerSec(), m.maxContextTokens(),
                        m.prefillTokensPerSec(), m.contextTokens()));
        DeviceTelemetry.Thermal thermal = field("device.thermal", () -> {
            try {
                return DeviceTelemetry.Thermal.parse(d.thermal());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("device.thermal must be one of nominal, fair, serious, critical");
            }
        });
        return field("device", () -> new DeviceTelemetry(d.cpuUtil(), d.npuUtil(), d.memAvailableMb(), d.batteryPct(),
                d.charging(), thermal, network, local));
    }

    private static <T> T field(String field, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage() == null ? "invalid value" : e.getMessage();
            String named = msg.contains(" must ") ? msg.substring(0, msg.indexOf(" must ")) : field;
            String rest = msg.contains(" must ") ? msg.substring(msg.indexOf(" must ") + 1) : msg;
            throw InvalidRequestException.of(named.contains(".") || named.equals(field) ? named : field, rest);
        }
    }
}
