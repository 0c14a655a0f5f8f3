package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.GatewayClient.Answer;
import dev.offload.gateway.bench.fleet.GatewayClient.Hint;

/**
 * What a streamed query ({@code /v1/query} SSE or gRPC {@code Query}) has delivered so far:
 * bytes, the first token's arrival, tokens, and how it ended. Shared by both transports so the
 * two count alike. Confined to the one thread that delivers the stream's events.
 */
final class StreamTally {
    private final int sent;
    private int received;
    private int beforeFirst;
    private long firstToken;
    private int tokens;
    private String servedBy;
    private Hint hint;
    private Long retryAfter;
    private int status = 200;
    private String error;
    private boolean finished;
    private final StringBuilder firstWord = new StringBuilder();
    private boolean firstWordDone;

    StreamTally(int sent) {
        this.sent = sent;
    }

    void bytes(int n) {
        received += n;
    }

    /** A token event with its text (null when the transport did not give it). */
    void token(String text) {
        if (text != null && !firstWordDone) {
            for (int i = 0; i < text.length() && !firstWordDone; i++) {
                char c = text.charAt(i);
                if (Character.isWhitespace(c)) {
                    firstWordDone = firstWord.length() > 0;
                } else {
                    firstWord.append(c);
                }
            }
        }
        token();
    }

    void token() {
        if (firstToken == 0) {
            firstToken = System.nanoTime();
            beforeFirst = received;
        }
        tokens++;
    }

    /** The {@code final} event. */
    void completed(String servedBy, Hint hint) {
        this.servedBy = servedBy;
        this.hint = hint;
    }

    /** The {@code error} event: a refusal or a failure after the stream opened. */
    void failed(int status, String reason, Hint hint, Long retryAfterMs) {
        this.status = status;
        this.error = "error event " + reason;
        this.hint = hint;
        this.retryAfter = retryAfterMs;
    }

    /**
     * The answer, once: {@code transportFailure} (null when the stream ended normally) and
     * {@code failureStatus} (the status to report for it) apply only when no error event came.
     */
    Answer finish(String transportFailure, int failureStatus) {
        if (finished) {
            return null;
        }
        finished = true;
        String e = error != null ? error : transportFailure != null ? transportFailure
                : servedBy == null ? "stream ended without final" : null;
        int s = error != null ? status : e != null ? failureStatus : 200;
        return new Answer(s, e == null ? servedBy : null, hint, retryAfter, firstToken, System.nanoTime(), tokens, sent,
                beforeFirst, received, e, firstWord.length() == 0 ? null : firstWord.toString());
    }
}
