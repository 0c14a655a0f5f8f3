package dev.offload.gateway.generation;

/** Admission class: interactive requests always leave the queue before background ones. */
public enum Priority {
    INTERACTIVE, BACKGROUND
}
