package dev.offload.gateway.security;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;

/**
 * First-start key for the embedded run: when no keys file exists yet, one admin key for the
 * tenant {@code default} is generated, and only its hash is written, to a file readable by its
 * owner alone. The caller shows the key once; it cannot be recovered afterwards.
 */
public final class EmbeddedKey {
    static final String PREFIX = "ogw_";

    private EmbeddedKey() {
    }

    /**
     * Creates {@code file} with one generated admin key and returns the key, or returns empty
     * if the file already exists (then nothing is changed).
     */
    public static Optional<String> createIfMissing(Path file, SecureRandom random) throws IOException {
        if (Files.exists(file)) {
            return Optional.empty();
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String key = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        String content = "# Offload Gateway API keys, one per line: <sha256-hex-of-key> <tenant> <device|admin>\n"
                + "# Generated on first start; the key itself was printed once and is not stored.\n"
                + KeyRing.sha256Hex(key) + " default admin\n";
        // Created with its final permissions, so the hash is never readable by others, even briefly.
        try (SeekableByteChannel out = Files.newByteChannel(file,
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), ownerOnly(file))) {
            out.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
        } catch (FileAlreadyExistsException e) {
            return Optional.empty(); // another process won the race; its key stands
        }
        return Optional.of(key);
    }

    private static FileAttribute<?>[] ownerOnly(Path file) {
        if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[0];
        }
        Set<PosixFilePermission> rw = PosixFilePermissions.fromString("rw-------");
        return new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(rw)};
    }
}
