package dev.offload.gateway.retrieval;

import java.util.Map;

/** A document as a client sends it, before validation. Any field may be null. */
public record NewDocument(String id, String title, String text, Map<String, String> metadata) {
}
