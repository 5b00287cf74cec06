package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/policybook"
)

// Outcomes is where crosstalk.query.command reads the outcomes of intake
// commands (package intake's bucket).
type Outcomes interface {
	// Outcome returns the outcome of app's command commandID; found is
	// false when none is known.
	Outcome(ctx context.Context, app, commandID string) (o api.Outcome, found bool, err error)
}

// intakeUser is the user an intake command's principal names: the intake
// knows the app of a command (its subject, which NATS permissions
// guarantee) and no finer caller, since JetStream keeps no
// Nats-Request-Info. Events record it as "<app>/intake".
const intakeUser = "intake"

// Intake decides a command taken from the durable intake, on app's
// subject crosstalk.intake.<app>.<action>: a wave of one (IntakeAll).
func (s *Service) Intake(ctx context.Context, app events.App, action string, body []byte) (api.CommandReply, error) {
	d := s.IntakeAll(ctx, []intake.Command{{App: app, Action: action, Body: body}})[0]
	return d.Reply, d.Err
}

// IntakeAll decides a wave of commands taken from the durable intake
// through the path of request/reply: the same decoding, identity rules,
// aggregate, OCC append and deduplication by command id; decisions[i] is
// cmds[i]'s. Each command's principal is its app's (KindApp) when
// identities are enforced, self-declared otherwise. A 403 is recorded as
// the request path records it. The commands' appends go to the log
// together (executeWave); commands on one aggregate are decided in the
// order of cmds.
func (s *Service) IntakeAll(ctx context.Context, cmds []intake.Command) []intake.Decision {
	ctx, cancel := context.WithTimeout(policybook.WithWave(ctx), s.opts.CommandTimeout)
	defer cancel()
	decisions := make([]intake.Decision, len(cmds))
	jobs := make([]*write, len(cmds))
	var wave []*write
	for i, c := range cmds {
		j, err := s.intakeJob(ctx, s.intakePrincipal(c.App), c.App, c.Action, c.Body)
		if err != nil {
			decisions[i].Err = err
			continue
		}
		jobs[i] = &write{s: s, job: j, msgID: commandKey(j.cmd)}
		wave = append(wave, jobs[i])
	}
	s.executeWave(ctx, wave)
	for i, c := range cmds {
		if w := jobs[i]; w != nil {
			s.executed(w.job, w.reply, w.err)
			decisions[i] = intake.Decision{Reply: w.reply, Err: w.err}
		}
		if err := decisions[i].Err; err != nil {
			s.recordRejection(s.intakePrincipal(c.App), events.Trace{}, c.App, c.Action, c.Body, err)
		}
	}
	return decisions
}

// intakePrincipal is the principal of app's intake commands.
func (s *Service) intakePrincipal(app events.App) identity.Principal {
	if s.opts.EnforceIdentity {
		return identity.Principal{Kind: identity.KindApp, Account: string(app), User: intakeUser}
	}
	return identity.SelfDeclared
}

// intakeJob checks an intake command and resolves its aggregate, as the
// request path does before it executes one.
func (s *Service) intakeJob(ctx context.Context, p identity.Principal, app events.App, action string, body []byte) (job, error) {
	if err := app.Validate(); err != nil {
		return job{}, badRequest("intake subject of app %s: %v", events.Quote(string(app)), err)
	}
	if limit := s.nc.MaxPayload(); int64(len(body)+headroom) > limit {
		return job{}, fmt.Errorf("%w: the command is %d bytes; a command travels in one NATS message of at most %d bytes (max_payload), headers included",
			ErrTooLarge, len(body), limit)
	}
	switch {
	case slices.Contains(api.ConversationActions, action):
		return s.conversationJob(ctx, p, app, action, body)
	case slices.Contains(api.AccountActions, action):
		return s.accountJob(ctx, p, app, action, body)
	}
	return job{}, badRequest("unknown action %s: the intake takes the command actions of crosstalk.cmd.<app>.<action>",
		events.Quote(action))
}

// queryCommand answers crosstalk.query.command: the outcome of an intake
// command, to its app, an admin or the service (anyone in development
// mode). An end user is refused: the intake knows no caller finer than
// the app. Command ids are each app's own, so the outcome is looked up
// under an app: the caller's, or the one an admin names.
func (s *Service) queryCommand(ctx context.Context, p identity.Principal, body []byte) (any, error) {
	var q api.CommandQuery
	if err := codec.Decode(body, &q); err != nil {
		return nil, err
	}
	if q.CommandID == "" {
		return nil, badRequest("command_id is required")
	}
	if err := checkUUID("command_id", q.CommandID); err != nil {
		return nil, err
	}
	app, err := outcomeApp(p, q.App)
	if err != nil {
		return nil, err
	}
	if s.opts.Outcomes == nil {
		return nil, fmt.Errorf("%w: this node keeps no intake outcomes", ErrNoOutcome)
	}
	o, found, err := s.opts.Outcomes.Outcome(ctx, app, q.CommandID)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, fmt.Errorf("%w: command_id %s of %s: never decided through %s's intake, or longer ago than the intake window",
			ErrNoOutcome, events.Quote(q.CommandID), app, app)
	}
	if r := o.Reply; r != nil && r.Position == "" && r.StreamSeq != 0 {
		r.Position = api.PositionAt(r.StreamSeq) // an outcome stored before replies had one
	}
	return o, nil
}

// outcomeApp is the app whose outcome p asks for, naming app (or ""): an
// app reads its own only, an admin or the service (or anyone in
// development mode) the one it names.
func outcomeApp(p identity.Principal, app string) (string, error) {
	switch p.Kind {
	case identity.KindUser:
		return "", fmt.Errorf("%w: an end user reads no intake outcome; its app does", identity.ErrForbidden)
	case identity.KindApp:
		if app != "" && app != p.Account {
			return "", fmt.Errorf("%w: %s may read only outcomes of %s's intake", identity.ErrForbidden, p, p.Account)
		}
		return p.Account, nil
	}
	if app == "" {
		return "", badRequest("app is required: command ids are each app's own, so name the app whose command it is")
	}
	if err := events.App(app).Validate(); err != nil {
		return "", badRequest("app %s: %v", events.Quote(app), err)
	}
	return app, nil
}
