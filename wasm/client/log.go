package client

import "strconv"

// Level is the severity of a log record. Its values are log/slog's, so
// slog.Level(level) converts it.
type Level int

// Levels of the client's log records.
const (
	LevelDebug Level = -4
	LevelInfo  Level = 0
	LevelWarn  Level = 4
	LevelError Level = 8
)

// String returns the level's name as log/slog spells it.
func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "DEBUG"
	case LevelInfo:
		return "INFO"
	case LevelWarn:
		return "WARN"
	case LevelError:
		return "ERROR"
	}
	return "LEVEL(" + strconv.Itoa(int(l)) + ")"
}

// logger calls Options.Log, if set, at the level its methods name. The
// client does not import log/slog: in the WebAssembly build it costs some
// 60 KB of gzip, over the size budget, for logs nobody reads by default.
type logger struct {
	log func(level Level, msg string, args ...any)
}

func (l logger) Debug(msg string, args ...any) { l.emit(LevelDebug, msg, args) }
func (l logger) Info(msg string, args ...any)  { l.emit(LevelInfo, msg, args) }
func (l logger) Warn(msg string, args ...any)  { l.emit(LevelWarn, msg, args) }
func (l logger) Error(msg string, args ...any) { l.emit(LevelError, msg, args) }

func (l logger) emit(level Level, msg string, args []any) {
	if l.log != nil {
		l.log(level, msg, args...)
	}
}
