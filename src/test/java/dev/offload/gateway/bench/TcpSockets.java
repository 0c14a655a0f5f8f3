package dev.offload.gateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Linux only: TCP sockets in TIME_WAIT toward or from a port, read from {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6}. The side that closes a connection first keeps it in TIME_WAIT for a
 * minute, so the TIME_WAIT sockets that appear during a block of requests show how many
 * connections were opened and closed in it, and by which side.
 */
final class TcpSockets {
    private static final String TIME_WAIT = "06";

    private TcpSockets() {
    }

    /** Sockets in TIME_WAIT whose remote port is {@code port} (closed first by a client of that port). */
    static Set<String> clientTimeWait(int port) {
        return timeWait(port, true);
    }

    /** Sockets in TIME_WAIT whose local port is {@code port} (closed first by the server on that port). */
    static Set<String> serverTimeWait(int port) {
        return timeWait(port, false);
    }

    private static Set<String> timeWait(int port, boolean remote) {
        Set<String> out = new HashSet<>();
        for (String file : new String[]{"/proc/net/tcp", "/proc/net/tcp6"}) {
            try {
                for (String line : Files.readAllLines(Path.of(file))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length < 4 || !f[3].equals(TIME_WAIT)) {
                        continue;
                    }
                    String addr = remote ? f[2] : f[1];
                    int colon = addr.lastIndexOf(':');
                    if (colon > 0 && Integer.parseInt(addr.substring(colon + 1), 16) == port) {
                        out.add(f[1] + "-" + f[2]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not Linux, or the format changed: count nothing
            }
        }
        return out;
    }

    /** How many of {@code after} were not in {@code before}. */
    static int added(Set<String> before, Set<String> after) {
        int n = 0;
        for (String s : after) {
            if (!before.contains(s)) {
                n++;
            }
        }
        return n;
    }
}
