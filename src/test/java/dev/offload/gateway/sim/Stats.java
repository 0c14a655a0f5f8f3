package dev.offload.gateway.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Test-facing counters and bounded records of a {@link SimulatedBackend}; every method is thread-safe. */
final class Stats {
    final AtomicLong received = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong cancelled = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong faultsInjected = new AtomicLong();
    final AtomicInteger hanging = new AtomicInteger();

    private final int recordLimit;
    private final ArrayDeque<ReceivedRequest> requests = new ArrayDeque<>();
    private final ArrayDeque<CancelledRequest> cancels = new ArrayDeque<>();

    Stats(int recordLimit) {
        this.recordLimit = recordLimit;
    }

    synchronized void record(ReceivedRequest request) {
        add(requests, request);
    }

    synchronized void record(CancelledRequest cancel) {
        add(cancels, cancel);
    }

    private <T> void add(ArrayDeque<T> records, T record) {
        if (recordLimit == 0) {
            return;
        }
        if (records.size() == recordLimit) {
            records.removeFirst();
        }
        records.addLast(record);
    }

    synchronized List<ReceivedRequest> requests() {
        return List.copyOf(requests);
    }

    synchronized List<CancelledRequest> cancels() {
        return List.copyOf(cancels);
    }

    synchronized List<String> bodies() {
        List<String> bodies = new ArrayList<>(requests.size());
        for (ReceivedRequest r : requests) {
            bodies.add(r.body());
        }
        return bodies;
    }

    synchronized void reset() {
        received.set(0);
        completed.set(0);
        cancelled.set(0);
        failed.set(0);
        faultsInjected.set(0);
        requests.clear();
        cancels.clear();
    }
}
