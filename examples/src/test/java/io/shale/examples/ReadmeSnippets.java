package io.shale.examples;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Takes the {@code ```java} blocks out of a markdown file, compiles each with javac (javax.tools)
 * against this module's test class path, and runs it in a child JVM whose working directory is a
 * fresh directory (also passed as {@code args[0]}).
 *
 * <p>A block is either a whole compilation unit (it declares a top-level class, record, interface
 * or enum; the public one, else the first, must have {@code public static void main(String[])}) or
 * statements: its leading {@code import} lines stay imports and the rest becomes the body of
 * {@code public static void main(String[] args) throws Exception}. A block right after the line
 * {@value #COMPILE_ONLY} is compiled and not run (it needs a real S3 bucket, say). Failures name
 * the markdown file and line.
 */
final class ReadmeSnippets {
    static final String COMPILE_ONLY = "<!-- readme-snippet: compile-only -->";
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(2);

    private static final Pattern FENCE = Pattern.compile("^ {0,3}(`{3,}|~{3,})\\s*([^`\\s]*).*$");
    private static final Pattern TOP_LEVEL_TYPE = Pattern.compile(
            "^(?:(?:public|final|abstract|sealed|non-sealed|strictfp)\\s+)*(class|record|interface|enum)\\s+([A-Za-z_$][\\w$]*)",
            Pattern.MULTILINE);
    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "^(?:(?:final|abstract|sealed|non-sealed|strictfp)\\s+)*public\\s+(?:(?:final|abstract|sealed|non-sealed|strictfp)\\s+)*"
                    + "(?:class|record|interface|enum)\\s+([A-Za-z_$][\\w$]*)",
            Pattern.MULTILINE);

    private ReadmeSnippets() {
    }

    /** One {@code ```java} block: {@code firstLine} is the markdown line (1-based) of its first code line. */
    record Snippet(String file, int firstLine, String code, boolean compileOnly) {
        String name() {
            return file + " line " + firstLine + (compileOnly ? " (compile only)" : "");
        }
    }

    /** A snippet as one Java source file; {@code markdownLines[i]} is the markdown line of source line i + 1 (0: added). */
    record Source(Snippet snippet, String mainClass, String text, int[] markdownLines) {
    }

    static List<Snippet> extract(String file, String markdown) {
        List<String> lines = markdown.lines().toList();
        List<Snippet> snippets = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches()) {
                i++;
                continue;
            }
            String fence = open.group(1);
            boolean java = open.group(2).toLowerCase(Locale.ROOT).equals("java");
            int start = i + 1;
            int end = start;
            while (end < lines.size() && !isClosingFence(lines.get(end), fence)) {
                end++;
            }
            if (end == lines.size()) {
                throw new AssertionError(file + " line " + (i + 1) + ": code block is never closed");
            }
            if (java) {
                snippets.add(new Snippet(file, start + 1, String.join("\n", lines.subList(start, end)) + "\n",
                        COMPILE_ONLY.equals(previousNonBlank(lines, i))));
            }
            i = end + 1;
        }
        return snippets;
    }

    private static boolean isClosingFence(String line, String fence) {
        String s = line.strip();
        return s.startsWith(fence) && s.chars().allMatch(c -> c == fence.charAt(0)) && line.indexOf(fence.charAt(0)) <= 3;
    }

    private static String previousNonBlank(List<String> lines, int index) {
        for (int i = index - 1; i >= 0; i--) {
            if (!lines.get(i).isBlank()) {
                return lines.get(i).strip();
            }
        }
        return "";
    }

    static Source toSource(Snippet snippet, String wrapperClass) {
        String code = snippet.code();
        Matcher type = TOP_LEVEL_TYPE.matcher(code);
        if (type.find()) {
            Matcher pub = PUBLIC_TYPE.matcher(code);
            String main = pub.find() ? pub.group(1) : type.group(2);
            int n = (int) code.lines().count();
            int[] map = new int[n];
            for (int i = 0; i < n; i++) {
                map[i] = snippet.firstLine() + i;
            }
            return new Source(snippet, main, code, map);
        }
        List<String> lines = code.lines().toList();
        int firstBodyLine = 0;
        while (firstBodyLine < lines.size()
                && (lines.get(firstBodyLine).isBlank() || lines.get(firstBodyLine).startsWith("import "))) {
            firstBodyLine++;
        }
        StringBuilder text = new StringBuilder();
        List<Integer> map = new ArrayList<>();
        for (int i = 0; i < firstBodyLine; i++) {
            text.append(lines.get(i)).append('\n');
            map.add(snippet.firstLine() + i);
        }
        text.append("public class ").append(wrapperClass)
                .append(" { public static void main(String[] args) throws Exception {\n");
        map.add(0);
        for (int i = firstBodyLine; i < lines.size(); i++) {
            text.append(lines.get(i)).append('\n');
            map.add(snippet.firstLine() + i);
        }
        text.append("}}\n");
        map.add(0);
        return new Source(snippet, wrapperClass, text.toString(), map.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Compiles, then runs unless the snippet is compile-only; an AssertionError says what failed and where. */
    static void check(Snippet snippet, String wrapperClass, Path scratch) throws IOException, InterruptedException {
        Source source = toSource(snippet, wrapperClass);
        Path classes = Files.createDirectories(scratch.resolve("classes"));
        compile(source, classes);
        if (snippet.compileOnly()) {
            return;
        }
        requireMain(source, classes);
        run(source, classes, Files.createDirectories(scratch.resolve("work")));
    }

    static void compile(Source source, Path classes) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new IllegalStateException("no system Java compiler: the tests need a JDK, not a JRE");
        }
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
            List<String> options = List.of("--release", "17", "-proc:none", "-encoding", "UTF-8",
                    "-classpath", System.getProperty("java.class.path"), "-d", classes.toString());
            JavaFileObject unit = new SimpleJavaFileObject(URI.create("string:///" + source.mainClass() + ".java"),
                    JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return source.text();
                }
            };
            boolean ok = javac.getTask(null, files, diagnostics, options, null, List.of(unit)).call();
            if (!ok) {
                StringBuilder message = new StringBuilder(source.snippet().name() + " does not compile:");
                for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                    if (d.getKind() != Diagnostic.Kind.ERROR) {
                        continue;
                    }
                    long line = d.getLineNumber();
                    int markdownLine = line >= 1 && line <= source.markdownLines().length
                            ? source.markdownLines()[(int) line - 1] : 0;
                    message.append("\n  ").append(source.snippet().file()).append(" line ")
                            .append(markdownLine == 0 ? "?" : Integer.toString(markdownLine))
                            .append(": ").append(d.getMessage(Locale.ROOT));
                }
                throw new AssertionError(message.toString());
            }
        }
    }

    private static void requireMain(Source source, Path classes) throws IOException {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                ReadmeSnippets.class.getClassLoader())) {
            Method main = Class.forName(source.mainClass(), false, loader).getMethod("main", String[].class);
            if (!Modifier.isStatic(main.getModifiers())) {
                throw new NoSuchMethodException("main is not static");
            }
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new AssertionError(source.snippet().name() + ": " + source.mainClass()
                    + " has no public static void main(String[]) to run (" + e.getMessage() + "); give it one, or put "
                    + COMPILE_ONLY + " on the line before the block", e);
        }
    }

    private static void run(Source source, Path classes, Path workDir) throws IOException, InterruptedException {
        Path output = workDir.resolveSibling("output.txt");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", classes + File.pathSeparator + System.getProperty("java.class.path"),
                source.mainClass(), workDir.toString());
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile()).start();
        if (!process.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError(source.snippet().name() + " did not finish within " + RUN_TIMEOUT
                    + "; output:\n" + read(output));
        }
        if (process.exitValue() != 0) {
            throw new AssertionError(source.snippet().name() + " failed (exit status " + process.exitValue()
                    + "); output:\n" + read(output));
        }
        System.out.println("== " + source.snippet().name() + " ran; output:\n" + read(output));
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
