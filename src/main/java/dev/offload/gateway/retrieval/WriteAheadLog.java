package dev.offload.gateway.retrieval;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Append-only log of index mutations, the index's durability boundary: a batch is acknowledged
 * only after its record is forced to disk, and a restart replays every record newer than the
 * last Lucene commit. Records carry the embeddings, so replay never re-embeds.
 *
 * <p>On disk: segments {@code wal-<firstSeq>.log}, each a sequence of
 * {@code [int length][int crc32c][payload]}. A torn tail (crash mid-append, never acknowledged)
 * fails its length or checksum and is cut off on open.
 *
 * <p>Threading: one writer at a time (the index's writer lock); not safe for concurrent appends.
 */
final class WriteAheadLog implements Closeable {
    private static final int MAX_RECORD_BYTES = 512 * 1024 * 1024;

    private final Path dir;
    private FileChannel current;
    private Path currentPath;

    WriteAheadLog(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    /** Reads all intact records in order, cutting off a torn tail of the last segment. */
    void replay(long afterSeq, Consumer<Batch> consumer) throws IOException {
        List<Path> segments = segments();
        for (int i = 0; i < segments.size(); i++) {
            Path segment = segments.get(i);
            try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long pos = 0;
                long size = ch.size();
                ByteBuffer header = ByteBuffer.allocate(8);
                while (pos < size) {
                    header.clear();
                    if (readFully(ch, header, pos) < 8) {
                        break;
                    }
                    header.flip();
                    int len = header.getInt();
                    int crc = header.getInt();
                    if (len <= 0 || len > MAX_RECORD_BYTES || pos + 8 + len > size) {
                        break;
                    }
                    ByteBuffer payload = ByteBuffer.allocate(len);
                    readFully(ch, payload, pos + 8);
                    CRC32C c = new CRC32C();
                    c.update(payload.array(), 0, len);
                    if ((int) c.getValue() != crc) {
                        break;
                    }
                    Batch batch = decode(payload.array());
                    if (batch.seq() > afterSeq) {
                        consumer.accept(batch);
                    }
                    pos += 8 + len;
                }
                if (pos < size) {
                    // A torn record can only be the unacknowledged tail of the newest segment.
                    ch.truncate(pos);
                    ch.force(true);
                }
            }
        }
    }

    /** Appends a record and forces it to disk before returning. */
    void append(Batch batch) throws IOException {
        if (current == null) {
            openSegment(batch.seq());
        }
        byte[] payload = encode(batch);
        CRC32C c = new CRC32C();
        c.update(payload);
        ByteBuffer buf = ByteBuffer.allocate(8 + payload.length);
        buf.putInt(payload.length).putInt((int) c.getValue()).put(payload).flip();
        while (buf.hasRemaining()) {
            current.write(buf);
        }
        current.force(false);
    }

    /**
     * Called after a Lucene commit that covers every appended record: starts a fresh segment
     * with the next record and deletes the older ones.
     */
    void truncateAll() throws IOException {
        if (current != null) {
            current.close();
            current = null;
            currentPath = null;
        }
        for (Path p : segments()) {
            Files.deleteIfExists(p);
        }
    }

    private void openSegment(long firstSeq) throws IOException {
        currentPath = dir.resolve(String.format("wal-%020d.log", firstSeq));
        current = FileChannel.open(currentPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        // Make the new file's directory entry durable too.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot fsync a directory; the file itself is still forced.
        }
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("wal-")
                            && p.getFileName().toString().endsWith(".log"))
                    .sorted().toList();
        }
    }

    private static int readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    @Override
    public void close() throws IOException {
        if (current != null) {
            current.close();
            current = null;
        }
    }

    // --- records -------------------------------------------------------------------------

    /** One acknowledged request: all of its operations apply together or not at all. */
    record Batch(long seq, long timestampMillis, List<Operation> operations) {
    }

    sealed interface Operation permits Upsert, Delete {
        String tenant();

        String documentId();
    }

    record Upsert(String tenant, String documentId, String title, String text, Map<String, String> metadata,
                  List<ChunkRecord> chunks) implements Operation {
    }

    record Delete(String tenant, String documentId) implements Operation {
    }

    record ChunkRecord(int ordinal, String text, float[] vector) {
    }

    static byte[] encode(Batch batch) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(4096);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(1); // format version
        out.writeLong(batch.seq());
        out.writeLong(batch.timestampMillis());
        out.writeInt(batch.operations().size());
        for (Operation op : batch.operations()) {
            if (op instanceof Upsert u) {
                out.writeByte('U');
                writeString(out, u.tenant());
                writeString(out, u.documentId());
                writeString(out, u.title());
                writeString(out, u.text());
                out.writeInt(u.metadata().size());
                for (var e : u.metadata().entrySet()) {
                    writeString(out, e.getKey());
                    writeString(out, e.getValue());
                }
                out.writeInt(u.chunks().size());
                for (ChunkRecord c : u.chunks()) {
                    out.writeInt(c.ordinal());
                    writeString(out, c.text());
                    out.writeInt(c.vector().length);
                    for (float f : c.vector()) {
                        out.writeFloat(f);
                    }
                }
            } else if (op instanceof Delete d) {
                out.writeByte('D');
                writeString(out, d.tenant());
                writeString(out, d.documentId());
            }
        }
        out.flush();
        return bytes.toByteArray();
    }

    static Batch decode(byte[] payload) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        int version = in.readByte();
        if (version != 1) {
            throw new IOException("unknown write-ahead log record version " + version);
        }
        long seq = in.readLong();
        long ts = in.readLong();
        int n = in.readInt();
        List<Operation> ops = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int type = in.readByte();
            if (type == 'U') {
                String tenant = readString(in);
                String id = readString(in);
                String title = readString(in);
                String text = readString(in);
                int m = in.readInt();
                Map<String, String> meta = new LinkedHashMap<>();
                for (int j = 0; j < m; j++) {
                    meta.put(readString(in), readString(in));
                }
                int c = in.readInt();
                List<ChunkRecord> chunks = new ArrayList<>(c);
                for (int j = 0; j < c; j++) {
                    int ord = in.readInt();
                    String t = readString(in);
                    float[] v = new float[in.readInt()];
                    for (int k = 0; k < v.length; k++) {
                        v[k] = in.readFloat();
                    }
                    chunks.add(new ChunkRecord(ord, t, v));
                }
                ops.add(new Upsert(tenant, id, title, text, meta, chunks));
            } else if (type == 'D') {
                ops.add(new Delete(readString(in), readString(in)));
            } else {
                throw new IOException("unknown write-ahead log operation " + type);
            }
        }
        return new Batch(seq, ts, ops);
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0) {
            throw new EOFException("negative string length");
        }
        byte[] b = in.readNBytes(len);
        if (b.length != len) {
            throw new EOFException();
        }
        return new String(b, StandardCharsets.UTF_8);
    }
}
