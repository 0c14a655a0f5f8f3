package dev.offload.gateway.bench;

import dev.offload.gateway.privacy.PiiRedactor;
import dev.offload.gateway.privacy.RedactionSession;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * PII redaction of about 1 KB of text, each operation in a fresh session as a request would do:
 * a support ticket with one of each kind of personal data, the same length without any, and
 * redaction followed by restoring an answer that cites every placeholder.
 *
 * <pre>./mvnw -q test-compile exec:exec@jmh -Dbench.args="RedactionBenchmark"</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RedactionBenchmark {
    static final String WITH_PII = """
            Ticket 48213, opened 2024-03-15 at 09:41 by line supervisor Jane Doe (jane.doe@plant-7.example.com, \
            mobile +44 20 7946 0958). Since firmware v2.10.3 the packaging robot on line 3 stops every 40 to 45 \
            minutes with error E-1127; the controller at 192.0.2.44 logs a watchdog reset and the HMI shows the \
            fallback screen. We replaced the encoder cable on 2024-03-12 without effect. Please refund the on-site \
            visit to IBAN DE89 3704 0044 0532 0130 00; the original invoice was paid with card 4111 1111 1111 1111. \
            The vendor's VPN endpoint is 2001:db8:4a::17 and the technician's employee SSN on file is 078-05-1120. \
            Throughput dropped from 1,250 to 980 units per hour, roughly 21.6 percent, over three shifts. \
            Spare parts 7731-220 and 7731-221 are on order; expected delivery in 5 working days. \
            Operators report that the fault clears after a power cycle but returns within the hour, and that the \
            robot's gripper temperature reads 4 to 6 degrees above normal before each stop. \
            Call back on 030/1234567 between 8 and 16 o'clock.""";

    static final String WITHOUT_PII = """
            Ticket 48214, opened 2024-03-15 at 10:02 by the night shift. Since firmware v2.10.3 the palletiser \
            on line 5 stops every 40 to 45 minutes with error E-1127; the controller logs a watchdog reset and \
            the operator panel shows the fallback screen. We replaced the encoder cable on 2024-03-12 without \
            effect, and swapped the safety relay on 2024-03-13, also without effect. Throughput dropped from \
            1,250 to 980 units per hour, roughly 21.6 percent, over three shifts, and the backlog is now about \
            2,400 units. Spare parts 7731-220 and 7731-221 are on order; expected delivery in 5 working days. \
            The maintenance plan for week 12 moves the gearbox inspection to Thursday; the cooling loop \
            flush stays on Friday. Please advise whether rolling back to firmware v2.9.8 is supported \
            for this model, and whether the vendor has seen error E-1127 elsewhere this quarter. Operators \
            report that the fault clears after a power cycle but returns within the hour, and that the gripper \
            temperature reads 4 to 6 degrees above normal before each stop.""";

    static final String ANSWER = "Contact <EMAIL_1> or <PHONE_1>; the refund goes to <IBAN_1>, not to <CARD_1>. "
            + "Check <IP_1> and <IP_2>; <NATIONAL_ID_1> is not needed. Call <PHONE_2> after the rollback.";

    private PiiRedactor redactor;

    @Setup
    public void setup() {
        redactor = PiiRedactor.withDefaults();
        int found = redactor.detect(WITH_PII).size();
        if (found != 8 || !redactor.detect(WITHOUT_PII).isEmpty()) {
            throw new IllegalStateException("benchmark texts no longer hold 8 and 0 findings: " + found);
        }
        System.out.printf("%ntexts: %d and %d characters%n", WITH_PII.length(), WITHOUT_PII.length());
    }

    @Benchmark
    public String redactWithPii() {
        return redactor.newSession().redact(WITH_PII);
    }

    @Benchmark
    public String redactWithoutPii() {
        return redactor.newSession().redact(WITHOUT_PII);
    }

    @Benchmark
    public String redactThenRestore() {
        RedactionSession s = redactor.newSession();
        s.redact(WITH_PII);
        return s.restore(ANSWER);
    }
}
