package dev.offload.gateway.generation;

import java.io.IOException;

/**
 * The connection closed before a byte of the response arrived. With pooled keep-alive
 * connections this is usually the backend closing an idle connection just as a request was
 * written on it, which says nothing about the backend's health: the request may be tried once
 * more on the same replica.
 */
public class ConnectionClosedException extends IOException {
    public ConnectionClosedException(String replica, Throwable cause) {
        super("connection to " + replica + " closed before the response", cause);
    }
}
