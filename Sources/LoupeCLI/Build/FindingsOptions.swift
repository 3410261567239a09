import ArgumentParser

/// How `loupe build` and `loupe merge` treat cached findings and what they report:
/// `--force`, `--timings`, `--llm-refresh`.
struct FindingsOptions: ParsableArguments {
    @Flag(help: "Recompute the findings even when cached ones match the inputs.")
    var force = false

    @Flag(help: "Print the wall time and peak resident memory of every phase (also in <report>/findings/timings.json).")
    var timings = false

    @Flag(name: .customLong("llm-refresh"), help: "Ask the language model again instead of reusing answers cached under <report>/findings/llm-cache/.")
    var llmRefresh = false
}
