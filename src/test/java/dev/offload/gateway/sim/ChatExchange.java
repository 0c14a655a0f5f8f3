package dev.offload.gateway.sim;

import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;

/**
 * The HTTP side of one {@code POST /v1/chat/completions}: writes the tokens the scheduler
 * produces as SSE chunks or one JSON body, and turns a client close into a cancellation.
 *
 * <p>Created, and all its state touched, on the event loop of the request's connection. The
 * {@link Sequence.Listener} methods are called by the scheduler thread and only hop onto that
 * event loop.
 */
final class ChatExchange implements Sequence.Listener {
    private final HttpServerResponse response;
    private final Context context;
    private final Stats stats;
    private final ChatRequest request;
    private final long id;
    private final long receivedAtNanos;
    private final String completionId;
    private final long created;
    private final OpenAiJson chunks;
    private final StringBuilder content;

    private int targetTokens;
    private String finishReason;
    private Sequence sequence;
    private boolean hanging;
    /** Content tokens handed to the connection (streaming only: a JSON answer goes out whole). */
    private int tokensWritten;
    private boolean responseEnded;
    private boolean serverClosed;
    private boolean clientClosed;
    private long closeObservedAtNanos;
    private int tokensAtClose;
    private boolean released;
    private long releasedAtNanos;

    ChatExchange(HttpServerResponse response, Context context, Stats stats, ChatRequest request, long id,
                 long receivedAtNanos) {
        this.response = response;
        this.context = context;
        this.stats = stats;
        this.request = request;
        this.id = id;
        this.receivedAtNanos = receivedAtNanos;
        this.completionId = "chatcmpl-sim-" + id;
        this.created = System.currentTimeMillis() / 1000;
        this.chunks = request.stream ? new OpenAiJson(completionId, created, request.model, request.includeUsage) : null;
        this.content = request.stream ? null : new StringBuilder();
        response.exceptionHandler(failure -> onClientClose());
        response.closeHandler(closed -> onClientClose());
    }

    /** The sequence was accepted by the scheduler: send the SSE headers now, tokens as they come. */
    void generate(Sequence accepted) {
        this.sequence = accepted;
        this.targetTokens = accepted.targetTokens;
        this.finishReason = accepted.lengthLimited ? "length" : "stop";
        if (request.stream) {
            response.setChunked(true)
                    .putHeader("content-type", "text/event-stream; charset=utf-8")
                    .putHeader("cache-control", "no-cache")
                    .writeHead();
        }
    }

    /** Never answers; with {@code sendHeaders}, after a 200 and the headers. */
    void hang(boolean sendHeaders) {
        hanging = true;
        stats.hanging.incrementAndGet();
        if (sendHeaders) {
            response.setChunked(true)
                    .putHeader("content-type", request.stream ? "text/event-stream; charset=utf-8" : "application/json")
                    .writeHead();
        }
    }

    @Override
    public void onToken(int index, boolean last) {
        context.runOnContext(v -> writeToken(index, last));
    }

    @Override
    public void onReset() {
        context.runOnContext(v -> resetConnection());
    }

    @Override
    public void onReleased(long atNanos) {
        context.runOnContext(v -> {
            released = true;
            releasedAtNanos = atNanos;
            if (clientClosed) {
                recordCancel(atNanos);
            }
        });
    }

    private boolean open() {
        return !responseEnded && !serverClosed && !clientClosed;
    }

    private void writeToken(int index, boolean last) {
        if (!open()) {
            return;
        }
        String text = request.token(index);
        if (request.stream) {
            tokensWritten++;
            StringBuilder out = new StringBuilder(last ? 1024 : 256);
            if (index == 0) {
                chunks.roleChunk(out);
            }
            chunks.contentChunk(out, text);
            if (!last) {
                response.write(out.toString());
                return;
            }
            chunks.finishChunk(out, finishReason);
            if (request.includeUsage) {
                chunks.usageChunk(out, request.promptTokens, targetTokens);
            }
            OpenAiJson.done(out);
            end(out.toString());
        } else {
            content.append(text);
            if (last) {
                response.putHeader("content-type", "application/json");
                end(OpenAiJson.completion(completionId, created, request.model, content.toString(), finishReason,
                        request.promptTokens, targetTokens).encode());
            }
        }
    }

    /**
     * Counts the completion before the last bytes go out, so a client holding the whole answer
     * always sees it counted; takes it back if the connection fails under the write.
     */
    private void end(String lastBytes) {
        responseEnded = true;
        stats.completed.incrementAndGet();
        response.end(lastBytes).onFailure(failure -> {
            stats.completed.decrementAndGet();
            responseEnded = false;
            onClientClose();
        });
    }

    private void resetConnection() {
        if (!open()) {
            return;
        }
        serverClosed = true;
        stats.failed.incrementAndGet();
        response.reset();
    }

    private void onClientClose() {
        if (!open()) {
            return;
        }
        clientClosed = true;
        closeObservedAtNanos = System.nanoTime();
        tokensAtClose = tokensWritten;
        stats.cancelled.incrementAndGet();
        if (hanging) {
            stats.hanging.decrementAndGet();
            recordCancel(-1);
        } else if (sequence != null) {
            sequence.cancel();
            if (released) {
                recordCancel(releasedAtNanos);
            }
        }
    }

    private void recordCancel(long slotFreedAtNanos) {
        stats.record(new CancelledRequest(id, tokensAtClose, receivedAtNanos, closeObservedAtNanos, slotFreedAtNanos));
    }
}
