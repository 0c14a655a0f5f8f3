package dev.offload.gateway.security;

import java.util.Locale;
import java.util.Optional;

/** What a key may do: {@code device} calls the tenant-scoped API; {@code admin} also runs operator actions. */
public enum Role {
    DEVICE, ADMIN;

    /** The role spelled in a keys file ({@code device} or {@code admin}, any case). */
    static Optional<Role> parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "device" -> Optional.of(DEVICE);
            case "admin" -> Optional.of(ADMIN);
            default -> Optional.empty();
        };
    }
}
