import MLVSupport

/// Everything that can go wrong planning or running a pipeline, written for the user.
package enum PipelineError: UserFacingError, Equatable {
    case noPipeline
    /// A DVC project: `dvc.yaml` and no `pipeline.yaml` (never "up to date").
    case dvcPipelineOnly
    case verifyRunFailed(outcome: String)
    case cycle([String])
    case duplicateOutput(path: String, stages: [String])
    case overlappingOutputs(path: String, stage: String, other: String, otherStage: String)
    case outputTrackedByAdd(path: String, stage: String, pointer: String)
    case missingDependency(path: String, stage: String)
    case unknownStage(String, suggestion: String?)
    /// A bare stage name that several pipeline files define: their addresses.
    case ambiguousStage(String, candidates: [String])
    /// A pipeline file inside data: a folder a pointer tracks, or a stage's out.
    case pipelineInData(file: String, owner: String)
    case missingParamsFile(path: String)
    case missingParam(stage: String, key: String, file: String, suggestion: String?)
    case notARegularFile(path: String)
    case fileTooLarge(path: String, limit: String)
    case commandFailed(stage: String, status: Int32)
    case commandKilled(stage: String, signal: Int32)
    case missingOutput(stage: String, path: String)
    case symlinkEscape(path: String, stage: String)
    case missingWorkingDirectory(path: String, stage: String)
    case interrupted(stage: String)
    case noThread(stage: String)
    case notText(path: String, reason: String)
    case missingMergeSide(path: String, side: String)
    case readsOutside(path: String)
    case stagesFailed([String])
    /// `repro --restore-only`: a stale stage the run-cache has no result for (or cannot hold one).
    case notRestorable(stage: String, cacheable: Bool)

    package var message: String {
        switch self {
        case .noPipeline: return "no pipeline.yaml in this workspace"
        case .dvcPipelineOnly: return "this workspace has DVC's dvc.yaml and no pipeline.yaml: its pipeline has not been read, let alone run"
        case .verifyRunFailed(let o): return "the verification rerun in a scratch copy failed (\(o)); see its output above"
        case .cycle(let names): return "the pipeline has a cycle: \(names.joined(separator: " -> "))"
        case .duplicateOutput(let p, let s) where s.count == 1:
            return "output '\(p)' is declared twice in stage '\(s[0])' (an out is listed once, under outs, metrics or plots)"
        case .duplicateOutput(let p, let s): return "output '\(p)' is produced by more than one stage: \(s.map { "'\($0)'" }.joined(separator: ", "))"
        case .overlappingOutputs(let p, let s, let o, let os): return "output '\(p)' of stage '\(s)' overlaps output '\(o)' of stage '\(os)'"
        case .outputTrackedByAdd(let p, let s, let ptr): return "output '\(p)' of stage '\(s)' overlaps data tracked by '\(ptr)'"
        case .missingDependency(let p, let s): return "dependency '\(p)' of stage '\(s)' does not exist and no stage produces it"
        case .unknownStage(let n, _): return "no stage named '\(n)' in pipeline.yaml"
        case .ambiguousStage(let n, let c): return "stage name '\(n)' is defined in more than one pipeline file: \(c.joined(separator: ", "))"
        case .pipelineInData(let f, let owner): return "'\(f)' is inside \(owner), which is data, not part of the pipeline"
        case .missingParamsFile(let p): return "params file '\(p)' does not exist"
        case .missingParam(let s, let k, let f, _): return "stage '\(s)': param '\(k)' is not in \(f)"
        case .notARegularFile(let p): return "'\(p)' is not a regular file"
        case .fileTooLarge(let p, let l): return "'\(p)' is larger than \(l)"
        case .commandFailed(let s, let code): return "stage '\(s)' failed: its command exited with code \(code)"
        case .commandKilled(let s, let sig): return "stage '\(s)' failed: its command was killed by signal \(sig)"
        case .missingOutput(let s, let p): return "stage '\(s)' did not create its output '\(p)'"
        case .symlinkEscape(let p, let s): return "path '\(p)' of stage '\(s)' leads outside the workspace through a symbolic link"
        case .missingWorkingDirectory(let p, let s): return "the wdir '\(p)' of stage '\(s)' is not a folder"
        case .interrupted(let s): return "interrupted while running stage '\(s)'"
        case .noThread(let s): return "could not start a thread to read the output of stage '\(s)'"
        case .readsOutside(let p): return "'\(p)' leads outside the workspace (or into .git or .mlv) through a symbolic link"
        case .missingMergeSide(let p, let side): return "'\(p)' (\(side)) does not exist"
        case .notText(let p, let why): return "'\(p)' is not UTF-8 text: it holds \(why)"
        case .notRestorable(let s, true): return "stage '\(s)' is stale and the run-cache has no earlier run with its inputs (--restore-only runs no command)"
        case .notRestorable(let s, false): return "stage '\(s)' is stale and cannot be restored from the run-cache: it is always_changed, has no outs or a persist out (--restore-only runs no command)"
        case .stagesFailed(let names): return "\(names.count) stage\(names.count == 1 ? "" : "s") failed: \(names.map { "'\($0)'" }.joined(separator: ", "))"
        }
    }

    package var hint: String? {
        switch self {
        case .noPipeline: return "describe your stages in pipeline.yaml (see `mlv stage list --help`)"
        case .dvcPipelineOnly: return "run `mlv migrate`: it converts every dvc.yaml, dvc.lock and .dvc file and the data DVC recorded (`--dry` shows what it would do)"
        case .cycle: return "a stage cannot depend, directly or through others, on its own output"
        case .duplicateOutput: return "give each output to one stage only"
        case .overlappingOutputs: return "an output may not lie inside another output"
        case .outputTrackedByAdd(_, _, let ptr): return "stop tracking it with mlv add first (remove '\(ptr)'), or choose another output path"
        case .missingDependency: return "create it, track it with `mlv add`, or add a stage that outputs it"
        case .unknownStage(_, let s): return s.map { "did you mean '\($0)'?" } ?? "run `mlv stage list` to see the stages"
        case .missingParam(_, _, _, let s): return s.map { "did you mean '\($0)'?" }
        case .ambiguousStage: return "name it with its file, FILE:STAGE (one of those above)"
        case .pipelineInData: return "move the pipeline file out of the tracked folder (a tracked folder is stored and restored whole)"
        case .commandFailed, .commandKilled: return "earlier stages are recorded in pipeline.lock; fix the command and run `mlv repro` again"
        case .missingOutput: return "the command must write every path listed in its outs"
        case .symlinkEscape: return "mlv reads and writes only inside the workspace"
        case .interrupted: return "pipeline.lock records the stages that finished; run `mlv repro` to continue"
        case .notText: return "save it as UTF-8 text"
        case .readsOutside: return "mlv reads params, vars, metrics and plots files only inside the workspace: copy the file in"
        case .missingMergeSide: return "git runs `mlv lock merge %O %A %B` with three files; run `mlv lock install-merge-driver` to set it up"
        case .notRestorable(let s, true): return "run it where its inputs are (`mlv repro \(s)`) and `mlv push --run-cache`, or leave out --restore-only"
        case .notRestorable: return "run it with `mlv repro`, or leave out --restore-only"
        case .noThread: return "the system is out of threads or memory; run it again with fewer jobs (-j)"
        default: return nil
        }
    }

    package var exitCode: Int32 {
        switch self {
        case .interrupted: return 130
        case .dvcPipelineOnly: return 1   // a check that found the pipeline not in order
        default: return 2
        }
    }

    /// The error for a workspace without pipeline.yaml: it says so, and what to do when DVC's
    /// dvc.yaml is there instead.
    static func missing(_ walk: WorkspaceWalk) -> PipelineError {
        walk.dvcPipelineFiles.isEmpty ? .noPipeline : .dvcPipelineOnly
    }
}
