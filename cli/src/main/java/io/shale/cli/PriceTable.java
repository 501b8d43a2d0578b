package io.shale.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Object-storage prices: the bundled table (prices.properties) or a file in the same format. */
record PriceTable(String asOf, String source, List<Provider> providers) {

    /** One provider's prices in USD. */
    record Provider(String id, String name, double storagePerGbMonth, double writePer1000, double readPer1000,
            double deletePer1000, double uploadPerGb, double retrievalPerGb) {
    }

    static final String RESOURCE = "prices.properties";

    static PriceTable bundled() {
        try (InputStream in = PriceTable.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bundled price table " + RESOURCE + " is missing from the jar");
            }
            Properties p = new Properties();
            p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            return parse(p, "the bundled price table");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the bundled price table", e);
        }
    }

    static PriceTable load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CliException("no such price file: " + file);
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new CliException("cannot read price file " + file + ": " + e.getMessage());
        }
        return parse(p, "price file " + file);
    }

    private static PriceTable parse(Properties p, String source) {
        String ids = p.getProperty("providers");
        if (ids == null || ids.isBlank()) {
            throw new CliException(source + ": no 'providers' key (a comma-separated list of provider ids)");
        }
        List<Provider> providers = new ArrayList<>();
        for (String raw : ids.split(",")) {
            String id = raw.strip();
            if (id.isEmpty()) {
                continue;
            }
            providers.add(new Provider(id, p.getProperty(id + ".name", id),
                    number(p, source, id + ".storage-per-gb-month"),
                    number(p, source, id + ".write-per-1000"),
                    number(p, source, id + ".read-per-1000"),
                    number(p, source, id + ".delete-per-1000"),
                    number(p, source, id + ".upload-per-gb"),
                    number(p, source, id + ".retrieval-per-gb")));
        }
        return new PriceTable(p.getProperty("as-of", "unknown date"), source, List.copyOf(providers));
    }

    private static double number(Properties p, String source, String key) {
        String v = p.getProperty(key);
        if (v == null) {
            throw new CliException(source + ": missing key '" + key + "'");
        }
        try {
            double d = Double.parseDouble(v.strip());
            if (!(d >= 0) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new CliException(source + ": '" + key + "' must be a non-negative number of dollars, not '" + v + "'");
        }
    }
}
