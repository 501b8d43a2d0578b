package io.shale.broker;

import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.security.authenticator.CredentialCache;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;
import org.apache.kafka.common.security.scram.internals.ScramServerCallbackHandler;
import org.apache.kafka.common.security.token.delegation.internals.DelegationTokenCache;

/**
 * The security of the broker's listener, from Kafka-named settings: the protocol
 * ({@code security.protocol}: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL), TLS ({@code ssl.*}: a JDK
 * {@link SSLContext} from a key store and an optional trust store) and SASL
 * ({@code sasl.enabled.mechanisms}: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, checked by kafka-clients'
 * own server-side {@link PlainSaslServer} and {@link ScramSaslServer}; users from
 * {@code sasl.users.file}). Immutable once built; shared by every connection.
 *
 * <p>Passwords (of stores, keys and users) are never part of a message or a log line: errors name
 * the setting, never its value.
 */
final class ListenerSecurity {
    static final String SECURITY_PROTOCOL = "security.protocol";
    static final String KEYSTORE_LOCATION = "ssl.keystore.location";
    static final String KEYSTORE_PASSWORD = "ssl.keystore.password";
    static final String KEYSTORE_TYPE = "ssl.keystore.type";
    static final String KEY_PASSWORD = "ssl.key.password";
    static final String TRUSTSTORE_LOCATION = "ssl.truststore.location";
    static final String TRUSTSTORE_PASSWORD = "ssl.truststore.password";
    static final String TRUSTSTORE_TYPE = "ssl.truststore.type";
    static final String CLIENT_AUTH = "ssl.client.auth";
    static final String ENABLED_PROTOCOLS = "ssl.enabled.protocols";
    static final String CIPHER_SUITES = "ssl.cipher.suites";
    static final String SASL_MECHANISMS = "sasl.enabled.mechanisms";
    static final String SASL_USERS_FILE = "sasl.users.file";

    static final Set<String> KEYS = Set.of(SECURITY_PROTOCOL, KEYSTORE_LOCATION, KEYSTORE_PASSWORD, KEYSTORE_TYPE,
            KEY_PASSWORD, TRUSTSTORE_LOCATION, TRUSTSTORE_PASSWORD, TRUSTSTORE_TYPE, CLIENT_AUTH, ENABLED_PROTOCOLS,
            CIPHER_SUITES, SASL_MECHANISMS, SASL_USERS_FILE);

    /** The defaults of the settings that have one (for DescribeConfigs). */
    static final Map<String, String> DEFAULTS = Map.of(SECURITY_PROTOCOL, "PLAINTEXT", KEYSTORE_TYPE,
            KeyStore.getDefaultType(), TRUSTSTORE_TYPE, KeyStore.getDefaultType(), CLIENT_AUTH, "none",
            ENABLED_PROTOCOLS, "TLSv1.3,TLSv1.2", SASL_MECHANISMS, "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");

    /** Settings whose values are secrets: never shown. */
    static final Set<String> SENSITIVE = Set.of(KEYSTORE_PASSWORD, KEY_PASSWORD, TRUSTSTORE_PASSWORD);

    static final String PLAIN = "PLAIN";
    static final List<String> MECHANISMS = List.of(PLAIN, "SCRAM-SHA-256", "SCRAM-SHA-512");

    /** Iterations of the SCRAM credentials derived from passwords at start (Kafka's minimum, kafka-configs' default). */
    static final int SCRAM_ITERATIONS = 4096;

    enum Protocol {
        PLAINTEXT(false, false), SSL(true, false), SASL_PLAINTEXT(false, true), SASL_SSL(true, true);

        final boolean tls;
        final boolean sasl;

        Protocol(boolean tls, boolean sasl) {
            this.tls = tls;
            this.sasl = sasl;
        }
    }

    enum ClientAuth { NONE, REQUESTED, REQUIRED }

    static final ListenerSecurity PLAINTEXT_LISTENER = new ListenerSecurity(Protocol.PLAINTEXT, null, ClientAuth.NONE,
            new String[0], null, List.of(), Map.of());

    final Protocol protocol;
    private final SSLContext sslContext;
    final ClientAuth clientAuth;
    private final String[] enabledProtocols;
    private final String[] cipherSuites;
    final List<String> mechanisms;
    private final Map<String, byte[]> plainPasswords; // UTF-8 bytes, compared in constant time
    private final CredentialCache scramCredentials = new CredentialCache();
    private final DelegationTokenCache tokens = new DelegationTokenCache(ScramMechanism.mechanismNames());
    private final int userCount;

    private ListenerSecurity(Protocol protocol, SSLContext sslContext, ClientAuth clientAuth, String[] enabledProtocols,
            String[] cipherSuites, List<String> mechanisms, Map<String, String> users) {
        this.protocol = protocol;
        this.sslContext = sslContext;
        this.clientAuth = clientAuth;
        this.enabledProtocols = enabledProtocols;
        this.cipherSuites = cipherSuites;
        this.mechanisms = List.copyOf(mechanisms);
        Map<String, byte[]> plain = new LinkedHashMap<>();
        for (ScramMechanism m : ScramMechanism.values()) {
            scramCredentials.createCache(m.mechanismName(), ScramCredential.class);
        }
        for (Map.Entry<String, String> u : users.entrySet()) {
            if (mechanisms.contains(PLAIN)) {
                plain.put(u.getKey(), u.getValue().getBytes(StandardCharsets.UTF_8));
            }
            for (ScramMechanism m : ScramMechanism.values()) {
                if (mechanisms.contains(m.mechanismName())) {
                    try {
                        // a random salt per user and mechanism, as kafka-configs --add-config does
                        scramCredentials.cache(m.mechanismName(), ScramCredential.class)
                                .put(u.getKey(), new ScramFormatter(m).generateCredential(u.getValue(), SCRAM_ITERATIONS));
                    } catch (NoSuchAlgorithmException e) {
                        throw new IllegalStateException(m.hashAlgorithm() + " is missing from this JVM", e);
                    }
                }
            }
        }
        this.plainPasswords = Collections.unmodifiableMap(plain);
        this.userCount = users.size();
    }

    /**
     * Builds the listener's security from Kafka-named settings ({@link #KEYS}) and SASL users given
     * directly (name to password; added to those of {@code sasl.users.file}).
     *
     * @throws IllegalArgumentException naming the setting that is missing or wrong (never a password)
     */
    static ListenerSecurity from(Map<String, String> settings, Map<String, String> extraUsers) {
        for (String k : settings.keySet()) {
            if (!KEYS.contains(k)) {
                throw new IllegalArgumentException("unknown listener security setting '" + k + "' (known: "
                        + new TreeSet<>(KEYS) + ")");
            }
        }
        String p = settings.getOrDefault(SECURITY_PROTOCOL, "PLAINTEXT").strip().toUpperCase(Locale.ROOT);
        Protocol protocol;
        try {
            protocol = Protocol.valueOf(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(SECURITY_PROTOCOL + " must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, not '"
                    + settings.get(SECURITY_PROTOCOL) + "'");
        }
        SSLContext ssl = null;
        ClientAuth clientAuth = ClientAuth.NONE;
        String[] protocols = new String[0];
        String[] ciphers = null;
        if (protocol.tls) {
            ssl = sslContext(settings);
            String ca = settings.getOrDefault(CLIENT_AUTH, "none").strip().toUpperCase(Locale.ROOT);
            try {
                clientAuth = ClientAuth.valueOf(ca);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(CLIENT_AUTH + " must be none, requested or required, not '"
                        + settings.get(CLIENT_AUTH) + "'");
            }
            if (clientAuth != ClientAuth.NONE && settings.get(TRUSTSTORE_LOCATION) == null) {
                throw new IllegalArgumentException(CLIENT_AUTH + "=" + ca.toLowerCase(Locale.ROOT) + " needs "
                        + TRUSTSTORE_LOCATION + " (the certificates client certificates are checked against)");
            }
            protocols = list(settings.getOrDefault(ENABLED_PROTOCOLS, "TLSv1.3,TLSv1.2")).toArray(new String[0]);
            Set<String> known = Set.of(ssl.getSupportedSSLParameters().getProtocols());
            for (String tp : protocols) {
                if (!known.contains(tp)) {
                    throw new IllegalArgumentException(ENABLED_PROTOCOLS + ": this JVM does not support '" + tp
                            + "' (supported: " + new TreeSet<>(known) + ")");
                }
            }
            if (protocols.length == 0) {
                throw new IllegalArgumentException(ENABLED_PROTOCOLS + " must name at least one protocol");
            }
            if (settings.get(CIPHER_SUITES) != null && !list(settings.get(CIPHER_SUITES)).isEmpty()) {
                ciphers = list(settings.get(CIPHER_SUITES)).toArray(new String[0]);
                Set<String> suites = Set.of(ssl.getSupportedSSLParameters().getCipherSuites());
                for (String c : ciphers) {
                    if (!suites.contains(c)) {
                        throw new IllegalArgumentException(CIPHER_SUITES + ": this JVM does not support '" + c + "'");
                    }
                }
            }
        } else {
            for (String k : settings.keySet()) {
                if (k.startsWith("ssl.")) {
                    throw new IllegalArgumentException(k + " applies to " + SECURITY_PROTOCOL
                            + "=SSL or SASL_SSL, not to " + protocol);
                }
            }
        }
        List<String> mechanisms = List.of();
        Map<String, String> users = new LinkedHashMap<>();
        if (protocol.sasl) {
            mechanisms = list(settings.getOrDefault(SASL_MECHANISMS, String.join(",", MECHANISMS)));
            if (mechanisms.isEmpty()) {
                throw new IllegalArgumentException(SASL_MECHANISMS + " must name at least one mechanism");
            }
            for (String m : mechanisms) {
                if (!MECHANISMS.contains(m)) {
                    throw new IllegalArgumentException(SASL_MECHANISMS + ": '" + m + "' is not served (served: "
                            + MECHANISMS + ")");
                }
            }
            String file = settings.get(SASL_USERS_FILE);
            if (file != null && !file.isBlank()) {
                users.putAll(usersFile(Path.of(file.strip())));
            }
            users.putAll(extraUsers);
            if (users.isEmpty()) {
                throw new IllegalArgumentException(protocol + " needs SASL users: " + SASL_USERS_FILE
                        + " (a properties file of NAME=PASSWORD lines) or users given to the builder");
            }
        } else {
            for (String k : settings.keySet()) {
                if (k.startsWith("sasl.")) {
                    throw new IllegalArgumentException(k + " applies to " + SECURITY_PROTOCOL
                            + "=SASL_PLAINTEXT or SASL_SSL, not to " + protocol);
                }
            }
            if (!extraUsers.isEmpty()) {
                throw new IllegalArgumentException("SASL users apply to " + SECURITY_PROTOCOL
                        + "=SASL_PLAINTEXT or SASL_SSL, not to " + protocol);
            }
        }
        return new ListenerSecurity(protocol, ssl, clientAuth, protocols, ciphers, mechanisms, users);
    }

    private static List<String> list(String value) {
        List<String> out = new ArrayList<>();
        for (String s : value.split(",")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return out;
    }

    /** The SASL users of a properties file: {@code NAME=PASSWORD} per line. */
    static Map<String, String> usersFile(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException(SASL_USERS_FILE + ": cannot read " + file + ": " + e.getMessage());
        }
        Map<String, String> users = new LinkedHashMap<>();
        for (String name : new TreeSet<>(p.stringPropertyNames())) {
            String password = p.getProperty(name);
            if (name.isBlank() || password.isEmpty()) {
                throw new IllegalArgumentException(SASL_USERS_FILE + ": " + file + ": user '" + name
                        + "' needs a name and a non-empty password");
            }
            users.put(name, password);
        }
        return users;
    }

    private static SSLContext sslContext(Map<String, String> s) {
        String location = s.get(KEYSTORE_LOCATION);
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException(SECURITY_PROTOCOL + "=" + s.getOrDefault(SECURITY_PROTOCOL, "")
                    + " needs " + KEYSTORE_LOCATION + " (the broker's key and certificate)");
        }
        char[] storePassword = password(s, KEYSTORE_PASSWORD);
        char[] keyPassword = s.containsKey(KEY_PASSWORD) ? password(s, KEY_PASSWORD) : storePassword;
        KeyStore keys = load(KEYSTORE_LOCATION, location, s.getOrDefault(KEYSTORE_TYPE, KeyStore.getDefaultType()),
                storePassword);
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, keyPassword);
            TrustManagerFactory tmf = null;
            String trust = s.get(TRUSTSTORE_LOCATION);
            if (trust != null && !trust.isBlank()) {
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(load(TRUSTSTORE_LOCATION, trust, s.getOrDefault(TRUSTSTORE_TYPE, KeyStore.getDefaultType()),
                        s.containsKey(TRUSTSTORE_PASSWORD) ? password(s, TRUSTSTORE_PASSWORD) : null));
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf != null ? tmf.getTrustManagers() : null, null);
            return ctx;
        } catch (java.security.UnrecoverableKeyException e) {
            throw new IllegalArgumentException("cannot read the key in " + location + ": wrong " + KEY_PASSWORD
                    + " (or " + KEYSTORE_PASSWORD + " when no key password is set)");
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot set up TLS from " + location + ": " + e.getClass().getSimpleName());
        } finally {
            Arrays.fill(storePassword, '\0');
        }
    }

    private static char[] password(Map<String, String> s, String key) {
        String v = s.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing " + key);
        }
        return v.toCharArray();
    }

    private static KeyStore load(String key, String location, String type, char[] password) {
        KeyStore ks;
        try {
            ks = KeyStore.getInstance(type.strip());
        } catch (java.security.KeyStoreException e) {
            throw new IllegalArgumentException(key + ": unknown key store type '" + type + "'");
        }
        try (InputStream in = Files.newInputStream(Path.of(location.strip()))) {
            ks.load(in, password);
        } catch (IOException e) {
            // a wrong password shows as an IOException whose cause is UnrecoverableKeyException
            boolean badPassword = e.getCause() instanceof java.security.UnrecoverableKeyException;
            throw new IllegalArgumentException(key + ": cannot read " + location + (badPassword
                    ? ": wrong password" : ": " + e.getMessage()));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(key + ": cannot read " + location + ": " + e.getClass().getSimpleName());
        }
        return ks;
    }

    /** A TLS handler for a new connection (a server-side JDK engine with the settings). */
    SslHandler sslHandler() {
        SSLEngine engine = sslContext.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setEnabledProtocols(enabledProtocols);
        if (cipherSuites != null) {
            engine.setEnabledCipherSuites(cipherSuites);
        }
        if (clientAuth == ClientAuth.REQUIRED) {
            engine.setNeedClientAuth(true);
        } else if (clientAuth == ClientAuth.REQUESTED) {
            engine.setWantClientAuth(true);
        }
        return new SslHandler(engine);
    }

    /**
     * A server for one authentication with {@code mechanism} (one of {@link #mechanisms}): kafka-clients'
     * own {@link PlainSaslServer} or {@link ScramSaslServer}, over this listener's users.
     */
    SaslServer saslServer(String mechanism) throws SaslException {
        if (mechanism.equals(PLAIN)) {
            return new PlainSaslServer(this::plainCallbacks);
        }
        ScramMechanism m = ScramMechanism.forMechanismName(mechanism);
        CallbackHandler h = new ScramServerCallbackHandler(scramCredentials.cache(mechanism, ScramCredential.class), tokens);
        try {
            return new ScramSaslServer(m, Map.of(), h);
        } catch (NoSuchAlgorithmException e) {
            throw new SaslException(m.hashAlgorithm() + " is missing from this JVM", e);
        }
    }

    private void plainCallbacks(Callback[] callbacks) throws UnsupportedCallbackException {
        String user = null;
        for (Callback c : callbacks) {
            if (c instanceof NameCallback) {
                user = ((NameCallback) c).getDefaultName();
            } else if (c instanceof PlainAuthenticateCallback) {
                PlainAuthenticateCallback pc = (PlainAuthenticateCallback) c;
                byte[] expected = user == null ? null : plainPasswords.get(user);
                byte[] given = new String(pc.password()).getBytes(StandardCharsets.UTF_8);
                // compare in constant time; an unknown user is compared against itself and still fails
                boolean ok = MessageDigest.isEqual(expected != null ? expected : given, given) && expected != null;
                Arrays.fill(given, (byte) 0);
                pc.authenticated(ok);
            } else {
                throw new UnsupportedCallbackException(c);
            }
        }
    }

    /** For logs: the protocol, client auth, mechanisms and number of users; never a secret. */
    String describe() {
        StringBuilder sb = new StringBuilder(protocol.name());
        if (protocol.tls) {
            sb.append(" (").append(String.join(",", enabledProtocols)).append(", client auth ")
                    .append(clientAuth.name().toLowerCase(Locale.ROOT)).append(')');
        }
        if (protocol.sasl) {
            sb.append(" SASL ").append(mechanisms).append(", ").append(userCount).append(" user(s)");
        }
        return sb.toString();
    }
}
