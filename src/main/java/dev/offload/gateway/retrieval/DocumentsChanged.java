package dev.offload.gateway.retrieval;

import java.util.List;

/**
 * Fired (synchronously, on the writer's thread) after documents of a tenant were upserted or
 * deleted and the change is visible to searches: whatever was derived from them (cached
 * answers) is stale now.
 */
public record DocumentsChanged(String tenant, List<String> documentIds) {
    public DocumentsChanged {
        documentIds = List.copyOf(documentIds);
    }
}
