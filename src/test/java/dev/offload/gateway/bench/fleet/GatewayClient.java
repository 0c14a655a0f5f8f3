package dev.offload.gateway.bench.fleet;

import java.util.List;
import java.util.function.Consumer;

/**
 * A device's two calls to the gateway, asynchronous: {@code decide} ({@code /v1/offload/decide}
 * or gRPC {@code Decide}) and {@code query} ({@code /v1/query} as JSON or SSE, or gRPC
 * {@code Query}). Methods may be called from any thread and never block; the callback runs once,
 * on a transport thread. Times are {@link System#nanoTime()}.
 */
interface GatewayClient extends AutoCloseable {

    /** What the device reports about itself (the gateway's {@code device} object). */
    record DeviceReport(double cpuUtil, double npuUtil, int memAvailableMb, double batteryPct, boolean charging,
                        String thermal, String network, double rttMs, double downlinkKbps, double uplinkKbps,
                        double localTokensPerSec, int localMaxContextTokens, double localPrefillTokensPerSec,
                        int localContextTokens) {
    }

    /** An offload hint as the device keeps it; {@code localQuality} is {@code estimates.localQuality} (null when absent). */
    record Hint(String target, long validForMs, Long retryAfterMs, List<String> reasons, Double localQuality) {
        Hint(String target, long validForMs, Long retryAfterMs, List<String> reasons) {
            this(target, validForMs, retryAfterMs, reasons, null);
        }
    }

    /**
     * One query as the device sends it; {@code generate} is {@code always}, {@code unless-local} or {@code cache-only};
     * {@code device} null sends no telemetry.
     */
    record Ask(String text, List<Workload.Turn> history, int historyTokens, String sensitivity, long budgetMs,
               DeviceReport device, String generate, int maxTokens, long timeoutMs) {
    }

    /** The answer to a decide call; status 0 for a transport failure. */
    record Decision(int status, Hint hint, int bytesSent, int bytesReceived, String error) {
    }

    /**
     * The outcome of a query. {@code status}: the HTTP status (for gRPC the status REST would have
     * answered: 200, or the error event's), 0 for a transport failure. {@code servedBy} is null
     * unless the query ended with a final answer. {@code firstTokenNanos} is 0 when no token
     * arrived or the transport does not stream. {@code firstWord} is the answer's first word (null
     * when no text came), which tells which question a generated answer was made for.
     */
    record Answer(int status, String servedBy, Hint hint, Long retryAfterMs, long firstTokenNanos, long endNanos,
                  int tokens, int bytesSent, int bytesBeforeFirstToken, int bytesReceived, String error,
                  String firstWord) {
        boolean answered() {
            return status == 200 && error == null && servedBy != null && !servedBy.equals("none");
        }
    }

    void decide(Ask ask, Consumer<Decision> done);

    void query(Ask ask, Consumer<Answer> done);

    @Override
    void close();
}
