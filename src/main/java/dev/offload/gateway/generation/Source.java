package dev.offload.gateway.generation;

/** A retrieved passage the extractive answerer may quote. */
public record Source(String documentId, String chunkId, String title, String text, double score) {
}
