package dev.offload.gateway.api;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Server spans name routes, never data: the conventions' {@code url.path} is the raw path, and
 * under {@code /v1/documents/} that is a tenant's document id. Replaced by the route template as
 * the span starts, the same rule the {@code uri} label of the HTTP metrics follows
 * ({@code quarkus.micrometer.binder.http-server.match-patterns}); span name and
 * {@code http.route} are templates already. Quarkus adds every {@link SpanProcessor} bean to the SDK.
 *
 * <p>Thread-safe, stateless.
 */
@ApplicationScoped
public class PathTemplateSpans implements SpanProcessor {
    static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
    private static final String DOCUMENTS = "/v1/documents/";

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
        if (span.getKind() != SpanKind.SERVER) {
            return;
        }
        String path = span.getAttribute(URL_PATH);
        if (path != null && path.startsWith(DOCUMENTS) && path.length() > DOCUMENTS.length()) {
            span.setAttribute(URL_PATH, DOCUMENTS + "{id}");
        }
    }

    @Override
    public boolean isStartRequired() {
        return true;
    }

    @Override
    public void onEnd(ReadableSpan span) {
    }

    @Override
    public boolean isEndRequired() {
        return false;
    }

    @Override
    public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
    }
}
