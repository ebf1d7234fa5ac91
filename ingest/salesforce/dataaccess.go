package salesforce

import (
	"strconv"
	"strings"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// chunkedRecords sets records from RowsProcessed for ReportEvent and
// ListViewEvent. Salesforce splits a large result into several events that
// share ExecutionIdentifier and repeat the same RowsProcessed (the total),
// numbering them with Sequence from 1 (Security Implementation Guide, "How
// Chunking Works with ReportEvent and ListViewEvent"). Only the first chunk,
// or an unchunked event without Sequence, carries records; the others keep
// RowsProcessed as a label, so a sum of records over a window is not
// multiplied by the number of chunks.
func (r *rtem) chunkedRecords() error {
	rows, hasRows, err := r.obj.Int("RowsProcessed")
	if err != nil {
		return err
	}
	seq, hasSeq, err := r.obj.Int("Sequence")
	if err != nil {
		return err
	}
	if hasSeq {
		r.labels.Set(labelPrefix+"sequence", strconv.FormatInt(seq, 10))
	}
	if !hasRows {
		return nil
	}
	r.labels.Set(labelPrefix+"rows_processed", strconv.FormatInt(rows, 10))
	if rows >= 0 && (!hasSeq || seq == 1) {
		r.ev.Records, r.ev.HasRecords = rows, true
	}
	return nil
}

var reportEventFields = known("ActionName", "BotId", "BotSessionIdentifier", "ColumnHeaders", "DashboardId",
	"DashboardName", "Description", "DisplayedFieldEntities", "EventSource", "ExecutionIdentifier",
	"ExportFileFormat", "Format", "GroupedColumnHeaders", "IsScheduled", "Name", "NumberOfColumns",
	"Operation", "OwnerId", "PlannerId", "QueriedEntities", "Records", "ReportId", "RowsProcessed",
	"Scope", "Sequence")

// reportExportOperations are the ReportEvent Operation values that are
// exports rather than runs.
var reportExportOperations = map[string]bool{
	"ReportExported":                    true,
	"ReportExportedAsynchronously":      true,
	"ReportExportedUsingExcelConnector": true,
}

// ReportEvent maps one ReportEvent row: a report run, or an export when
// Operation or ExportFileFormat says so. The Records field (the report's
// data) is never copied.
func ReportEvent(obj record.Object, meta record.Meta) (event.Event, error) {
	r, err := startRTEM(obj, meta, "ReportEvent")
	if err != nil {
		return event.Event{}, err
	}
	if err := r.actor(); err != nil {
		return event.Event{}, err
	}
	f, ev := &r.f, &r.ev
	op, exportFormat := f.str("Operation"), f.str("ExportFileFormat")
	if reportExportOperations[op] || exportFormat != "" {
		ev.Event.Category, ev.Event.Action = "export", "export"
	} else {
		ev.Event.Category, ev.Event.Action = "data_access", "report_run"
	}
	source := f.str("EventSource")
	ev.Client.AccessMethod = accessFromEventSource(source)
	ev.Object = event.Object{Type: "report", ID: f.id("ReportId"), Name: f.str("Name"), OwnerID: f.id("OwnerId")}
	r.labels.Set(labelPrefix+"operation", op)
	r.labels.Set(labelPrefix+"event_source", source)
	r.labels.Set(labelPrefix+"export_file_format", exportFormat)
	f.labels(r.labels,
		"ExecutionIdentifier", "execution_id",
		"QueriedEntities", "queried_entities",
		"DashboardId", "dashboard_id",
		"DashboardName", "dashboard_name",
		"Scope", "scope",
		"Format", "report_format",
		"IsScheduled", "is_scheduled",
		"NumberOfColumns", "number_of_columns",
	)
	if err := r.chunkedRecords(); err != nil {
		return event.Event{}, err
	}
	return r.finish(reportEventFields)
}

var listViewEventFields = known("AppName", "ColumnHeaders", "DeveloperName", "EventSource", "ExecutionIdentifier",
	"FilterCriteria", "ListViewId", "Name", "NumberOfColumns", "OrderBy", "OwnerId", "QueriedEntities",
	"Records", "RowsProcessed", "Scope", "Sequence")

// ListViewEvent maps one ListViewEvent row: a user viewing records through a
// list view. The Records field (the rows shown) is never copied.
func ListViewEvent(obj record.Object, meta record.Meta) (event.Event, error) {
	r, err := startRTEM(obj, meta, "ListViewEvent")
	if err != nil {
		return event.Event{}, err
	}
	if err := r.actor(); err != nil {
		return event.Event{}, err
	}
	f, ev := &r.f, &r.ev
	ev.Event.Category, ev.Event.Action = "data_access", "view"
	source := f.str("EventSource")
	ev.Client.AccessMethod = accessFromEventSource(source)
	ev.Object = event.Object{Type: "list_view", ID: f.id("ListViewId"), Name: f.str("Name"), OwnerID: f.id("OwnerId")}
	r.labels.Set(labelPrefix+"event_source", source)
	f.labels(r.labels,
		"QueriedEntities", "queried_entities",
		"DeveloperName", "developer_name",
		"ExecutionIdentifier", "execution_id",
		"Scope", "scope",
		"AppName", "app_name",
		"NumberOfColumns", "number_of_columns",
	)
	if err := r.chunkedRecords(); err != nil {
		return event.Event{}, err
	}
	return r.finish(listViewEventFields)
}

var apiEventFields = known("ActionName", "AdditionalInfo", "ApiType", "ApiVersion", "Application", "BotId",
	"BotSessionIdentifier", "Client", "ConnectedAppId", "ElapsedTime", "Operation", "PlannerId", "Platform",
	"QueriedEntities", "Query", "Records", "RequestIdentifier", "RowsProcessed", "RowsReturned", "UserAgent")

// ApiEvent maps one ApiEvent row: a query(), queryMore() or count() call, or
// a hard or soft delete through the API.
//
// records is RowsReturned, the rows this call handed to the client.
// RowsProcessed is the whole query's total, repeated on each queryMore()
// event of the same query (and -1 for big objects), so it is kept only as a
// label.
func ApiEvent(obj record.Object, meta record.Meta) (event.Event, error) {
	r, err := startRTEM(obj, meta, "ApiEvent")
	if err != nil {
		return event.Event{}, err
	}
	if err := r.actor(); err != nil {
		return event.Event{}, err
	}
	f, ev := &r.f, &r.ev
	op := f.str("Operation")
	switch op {
	case "DeleteHard", "DeleteSoft":
		ev.Event.Category, ev.Event.Action = "data_change", "delete"
	default:
		ev.Event.Category, ev.Event.Action = "data_access", "query"
	}
	apiType := f.str("ApiType")
	ev.Client.AccessMethod = "api"
	if apiType == "Bulk" {
		ev.Client.AccessMethod = "bulk_api"
	}
	ev.Client.UserAgent = f.str("UserAgent")
	entities := f.str("QueriedEntities")
	ev.Object.Type = entityType(entities)
	returned, ok, err := obj.Int("RowsReturned")
	if err != nil {
		return event.Event{}, err
	}
	if ok && returned >= 0 {
		ev.Records, ev.HasRecords = returned, true
	}
	r.labels.Set(labelPrefix+"operation", op)
	r.labels.Set(labelPrefix+"api_type", apiType)
	r.labels.Set(labelPrefix+"queried_entities", entities)
	f.labels(r.labels,
		"Query", "query",
		"RowsProcessed", "rows_processed",
		"ApiVersion", "api_version",
		"Application", "application",
		"Client", "client",
		"ConnectedAppId", "connected_app_id",
		"ElapsedTime", "elapsed_ms",
		"RequestIdentifier", "request_id",
		"Platform", "platform",
	)
	return r.finish(apiEventFields)
}

// entityType turns a single Salesforce entity name into a canonical object
// type: standard objects in lower case (Lead -> lead), custom objects
// (Invoice__c) as they are. A list of several entities gives "" (the list is
// kept as a label).
func entityType(entities string) string {
	e := strings.TrimSpace(entities)
	if e == "" || strings.ContainsAny(e, ", ") {
		return ""
	}
	if strings.Contains(e, "__") {
		return e
	}
	return strings.ToLower(e)
}
