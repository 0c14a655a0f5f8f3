package dev.offload.gateway.sim;

import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

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
    private String completionId;
    /** Several choices, log probabilities, tool calls or a legacy completion: written by {@link #writeRich}. */
    private final boolean rich;
    private final List<String> toolDeltas;
    private final List<StringBuilder> texts = new ArrayList<>();
    private final List<JsonObject> logprobs = new ArrayList<>();
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
        this.created = System.currentTimeMillis() / 1000;
        this.completionId = (request.legacy ? "cmpl-sim-" : "chatcmpl-sim-") + id;
        this.chunks = request.stream ? new OpenAiJson(completionId, created, request.model, request.includeUsage,
                request.legacy) : null;
        this.content = request.stream ? null : new StringBuilder();
        this.rich = request.legacy || request.choices() > 1 || request.logprobs || !request.toolCalls.isEmpty();
        this.toolDeltas = request.toolCalls.isEmpty() ? List.of() : OpenAiJson.toolCallDeltas(completionId, request.toolCalls);
        for (int c = 0; c < (rich ? request.choices() : 0); c++) {
            texts.add(new StringBuilder());
            logprobs.add(null);
        }
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
        if (rich) {
            writeRich(index, last);
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

    /** Every choice's token {@code index}, or the tool calls' pieces; the answer's end with the last. */
    private void writeRich(int index, boolean last) {
        int choices = request.choices();
        StringBuilder out = new StringBuilder(512);
        if (index == 0) {
            for (int c = 0; c < choices; c++) {
                if (!request.legacy) {
                    if (request.stream) {
                        chunks.choiceChunk(out, c, "{\"role\":\"assistant\",\"content\":\"\"}", null, null);
                    }
                } else if (request.echo) {
                    String prompt = request.prompts.get(c / request.n);
                    if (request.stream) {
                        chunks.textChunk(out, c, prompt, null, null);
                    } else {
                        texts.get(c).append(prompt);
                    }
                }
            }
        }
        if (!toolDeltas.isEmpty()) {
            int from = index;
            int to = last ? toolDeltas.size() : Math.min(index + 1, toolDeltas.size());
            for (int c = 0; c < choices && request.stream; c++) {
                for (int i = from; i < to; i++) {
                    chunks.choiceChunk(out, c, toolDeltas.get(i), null, null);
                }
            }
        } else {
            for (int c = 0; c < choices; c++) {
                String text = request.token(c, index);
                JsonObject lp = null;
                if (request.legacy && request.legacyLogprobs) {
                    lp = OpenAiJson.legacyLogprobs(text, texts.get(c).length(), request.topLogprobs);
                } else if (request.logprobs) {
                    lp = OpenAiJson.chatLogprobs(text, request.topLogprobs);
                }
                if (request.stream) {
                    if (request.legacy) {
                        chunks.textChunk(out, c, text, lp, null);
                    } else {
                        chunks.choiceChunk(out, c, "{\"content\":" + io.vertx.core.json.Json.encode(text) + "}", lp, null);
                    }
                    texts.get(c).append(text); // for the text offsets
                } else {
                    texts.get(c).append(text);
                    if (lp != null) {
                        JsonObject have = logprobs.get(c);
                        if (have == null) {
                            logprobs.set(c, lp);
                        } else {
                            lp.forEach(f -> have.getJsonArray(f.getKey()).addAll((io.vertx.core.json.JsonArray) f.getValue()));
                        }
                    }
                }
            }
        }
        if (request.stream) {
            tokensWritten++;
        }
        if (!last) {
            if (request.stream && !out.isEmpty()) {
                response.write(out.toString());
            }
            return;
        }
        String reason = request.toolCalls.isEmpty() ? finishReason : "tool_calls";
        if (request.stream) {
            for (int c = 0; c < choices; c++) {
                if (request.legacy) {
                    chunks.textChunk(out, c, "", null, reason);
                } else {
                    chunks.choiceChunk(out, c, "{}", null, reason);
                }
            }
            if (request.includeUsage) {
                chunks.usageChunk(out, request.promptTokens, targetTokens * choices);
            }
            OpenAiJson.done(out);
            end(out.toString());
        } else {
            response.putHeader("content-type", "application/json");
            end(OpenAiJson.answer(completionId, created, request, texts, logprobs, finishReason, targetTokens).encode());
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
