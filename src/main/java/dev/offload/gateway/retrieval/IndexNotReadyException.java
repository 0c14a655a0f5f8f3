package dev.offload.gateway.retrieval;

/** The index is still opening (recovering its log) or failed to open; retry later. */
public class IndexNotReadyException extends RuntimeException {
    public IndexNotReadyException(String message) {
        super(message);
    }
}
