package dev.offload.gateway.abuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Counts the server side of established TCP connections on a local port from
 * {@code /proc/net/tcp} and {@code /proc/net/tcp6} (Linux): what the gateway holds open, whoever
 * the clients are. -1 where there is no /proc.
 */
public final class ServerConnections {
    private ServerConnections() {
    }

    public static int established(int port) {
        int n = 0;
        boolean any = false;
        for (String f : new String[]{"/proc/net/tcp", "/proc/net/tcp6"}) {
            try {
                for (String line : Files.readAllLines(Path.of(f))) {
                    String[] c = line.trim().split("\\s+");
                    if (c.length < 4 || !c[1].contains(":")) {
                        continue;
                    }
                    int local = Integer.parseInt(c[1].substring(c[1].lastIndexOf(':') + 1), 16);
                    if (local == port && c[3].equals("01")) {
                        n++;
                    }
                }
                any = true;
            } catch (IOException | RuntimeException e) {
                // no such table
            }
        }
        return any ? n : -1;
    }
}
