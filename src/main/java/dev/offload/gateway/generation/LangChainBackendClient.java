package dev.offload.gateway.generation;

import dev.langchain4j.model.openai.internal.OpenAiClient;
import dev.langchain4j.model.openai.internal.ResponseHandle;
import dev.langchain4j.model.openai.internal.chat.AssistantMessage;
import dev.langchain4j.model.openai.internal.chat.ChatCompletionChoice;
import dev.langchain4j.model.openai.internal.chat.ChatCompletionRequest;
import dev.langchain4j.model.openai.internal.chat.Message;
import dev.langchain4j.model.openai.internal.chat.SystemMessage;
import dev.langchain4j.model.openai.internal.chat.UserMessage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A replica reached through LangChain4j's OpenAI client; inside Quarkus the client is
 * quarkus-langchain4j-openai's (REST Client on Vert.x, non-blocking SSE).
 *
 * <p>Why the client rather than {@code OpenAiStreamingChatModel}: the chat model exposes a
 * cancellation handle only with the first partial response, so a device that disconnects while
 * its request is still in prefill (or a backend that hangs after its headers) could not be
 * cancelled. The client's {@code ResponseHandle} cancels at any moment.
 */
public final class LangChainBackendClient implements BackendClient {
    private final OpenAiClient client;

    public LangChainBackendClient(String baseUrl, String apiKey, Duration connectTimeout, Duration readTimeout) {
        this.client = OpenAiClient.builder()
                .baseUrl(baseUrl)
                .apiKey(apiKey == null || apiKey.isBlank() ? "none" : apiKey)
                .connectTimeout(connectTimeout)
                .readTimeout(readTimeout)
                .userAgent("offload-gateway")
                .build();
    }

    @Override
    public Cancellation stream(GenerationRequest request, String model, Listener listener) {
        List<Message> messages = new ArrayList<>(request.messages().size());
        for (ChatTurn t : request.messages()) {
            messages.add(switch (t.role()) {
                case "system" -> SystemMessage.from(t.content());
                case "assistant" -> AssistantMessage.from(t.content());
                default -> UserMessage.from(t.content());
            });
        }
        ChatCompletionRequest body = ChatCompletionRequest.builder()
                .model(model)
                .messages(messages)
                .maxTokens(request.maxTokens())
                .temperature(request.temperature())
                .stream(true)
                .build();
        AtomicBoolean done = new AtomicBoolean();
        String[] finish = {null};
        Integer[] usage = {null, null};
        ResponseHandle handle = client.chatCompletion(body)
                .onPartialResponse(chunk -> {
                    if (chunk.usage() != null) {
                        usage[0] = chunk.usage().promptTokens();
                        usage[1] = chunk.usage().completionTokens();
                    }
                    if (chunk.choices() == null) {
                        return;
                    }
                    for (ChatCompletionChoice c : chunk.choices()) {
                        if (c.delta() != null && c.delta().content() != null && !c.delta().content().isEmpty()) {
                            listener.onToken(c.delta().content());
                        }
                        if (c.finishReason() != null) {
                            finish[0] = c.finishReason();
                        }
                    }
                })
                .onComplete(() -> {
                    if (done.compareAndSet(false, true)) {
                        if (finish[0] == null) {
                            // The SSE stream closed without a finish_reason (a reset or a crash
                            // mid-answer looks like a normal end to the SSE reader): truncated.
                            listener.onError(new java.io.EOFException("the stream ended without a finish_reason"));
                        } else {
                            listener.onComplete(finish[0], usage[0], usage[1]);
                        }
                    }
                })
                .onError(t -> {
                    if (done.compareAndSet(false, true)) {
                        listener.onError(t);
                    }
                })
                .execute();
        return () -> {
            done.set(true);
            handle.cancel();
        };
    }
}
