package dev.offload.gateway.generation;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * Bounded waiting room in front of a tier: strict priority between classes (every interactive
 * request leaves before any background one), and within a class round-robin between tenants,
 * so one tenant's burst waits behind its own requests, not in front of everyone else's
 * (fair queuing by request count). Each tenant's requests keep their order.
 *
 * <p>Not thread-safe: the owning tier holds its lock around every call.
 */
final class AdmissionQueue<T> {
    private final int capacity;
    private final Map<Priority, PerClass<T>> classes = new EnumMap<>(Priority.class);
    private int size;

    AdmissionQueue(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0");
        }
        this.capacity = capacity;
        for (Priority p : Priority.values()) {
            classes.put(p, new PerClass<>());
        }
    }

    private static final class PerClass<T> {
        final Map<String, ArrayDeque<T>> byTenant = new HashMap<>();
        final ArrayDeque<String> turn = new ArrayDeque<>(); // tenants with waiting items, next first
    }

    /** Adds an item; false when the queue is full. */
    boolean offer(String tenant, Priority priority, T item) {
        if (size >= capacity) {
            return false;
        }
        PerClass<T> c = classes.get(priority);
        ArrayDeque<T> q = c.byTenant.computeIfAbsent(tenant, t -> new ArrayDeque<>());
        if (q.isEmpty()) {
            c.turn.addLast(tenant);
        }
        q.addLast(item);
        size++;
        return true;
    }

    /** The next item to serve, or null. */
    T poll() {
        for (Priority p : Priority.values()) {
            PerClass<T> c = classes.get(p);
            String tenant = c.turn.pollFirst();
            if (tenant == null) {
                continue;
            }
            ArrayDeque<T> q = c.byTenant.get(tenant);
            T item = q.pollFirst();
            if (q.isEmpty()) {
                c.byTenant.remove(tenant);
            } else {
                c.turn.addLast(tenant);
            }
            size--;
            return item;
        }
        return null;
    }

    /** The item {@link #poll} would return, without removing it. */
    T peek() {
        for (Priority p : Priority.values()) {
            PerClass<T> c = classes.get(p);
            String tenant = c.turn.peekFirst();
            if (tenant != null) {
                return c.byTenant.get(tenant).peekFirst();
            }
        }
        return null;
    }

    /** Removes a waiting item (its caller gave up); false if it was not waiting. */
    boolean remove(String tenant, Priority priority, T item) {
        PerClass<T> c = classes.get(priority);
        ArrayDeque<T> q = c.byTenant.get(tenant);
        if (q == null || !q.remove(item)) {
            return false;
        }
        if (q.isEmpty()) {
            c.byTenant.remove(tenant);
            c.turn.remove(tenant);
        }
        size--;
        return true;
    }

    int size() {
        return size;
    }

    int capacity() {
        return capacity;
    }
}
