package dev.offload.gateway.cluster;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster connection's credential settings: what a start refuses, and what the logs may show of a URL. */
class NatsCredentialsTest {
    private static final Optional<String> NONE = Optional.empty();

    @Test
    void aUserNeedsItsPasswordAndOnlyOneWayToAuthenticateIsTaken() throws Exception {
        assertDoesNotThrow(() -> NatsCluster.checkCredentials(NONE, NONE, NONE));
        assertDoesNotThrow(() -> NatsCluster.checkCredentials(Optional.of("gateway"), Optional.of("s3cret"), NONE));
        IllegalStateException noPassword = assertThrows(IllegalStateException.class,
                () -> NatsCluster.checkCredentials(Optional.of("gateway"), NONE, NONE));
        assertTrue(noPassword.getMessage().contains("password is missing"), noPassword.getMessage());
        // An empty Secret value is no password either: the start says so instead of connecting without one.
        assertThrows(IllegalStateException.class, () -> NatsCluster.checkCredentials(Optional.of("gateway"), Optional.of(""), NONE));
        IllegalStateException noUser = assertThrows(IllegalStateException.class,
                () -> NatsCluster.checkCredentials(NONE, Optional.of("s3cret"), NONE));
        assertTrue(noUser.getMessage().contains("user is missing"), noUser.getMessage());

        Path creds = Files.createTempFile("gateway", ".creds");
        try {
            assertDoesNotThrow(() -> NatsCluster.checkCredentials(NONE, NONE, Optional.of(creds.toString())));
            IllegalStateException both = assertThrows(IllegalStateException.class,
                    () -> NatsCluster.checkCredentials(Optional.of("gateway"), Optional.of("s3cret"), Optional.of(creds.toString())));
            assertTrue(both.getMessage().contains("not both"), both.getMessage());
        } finally {
            Files.delete(creds);
        }
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> NatsCluster.checkCredentials(NONE, NONE, Optional.of("/nonexistent/gateway.creds")));
        assertTrue(missing.getMessage().contains("not a readable file"), missing.getMessage());
    }

    @Test
    void aPasswordInAServerUrlIsNeverLogged() {
        String shown = NatsCluster.redacted("nats://gateway:s3cret@nats-0.nats:4222", "tls://token@nats-1.nats:4222",
                "nats://nats-2.nats:4222");
        assertEquals("nats://***@nats-0.nats:4222,tls://***@nats-1.nats:4222,nats://nats-2.nats:4222", shown);
        assertFalse(shown.contains("s3cret"));
        assertEquals("", NatsCluster.redacted((String) null));
    }
}
